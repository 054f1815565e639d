/* The participant page's behaviour, a file so that the page's CSP allows no inline script:
 * the Copy button, the Mastodon share form, and the share beacons
 * (POST /p/{token}/share?ch=..., counted as the button opens the network's dialog; a beacon
 * never holds up the link). */
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-share]");
    if (el && navigator.sendBeacon) { navigator.sendBeacon(el.getAttribute("data-share")); }
    var copy = e.target.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.getAttribute("data-copy"));
      if (navigator.clipboard && input) { navigator.clipboard.writeText(input.value); }
      copy.textContent = copy.getAttribute("data-copied") || "Copied";
    }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-mastodon-text]");
    if (!form) { return; }
    e.preventDefault();
    var server = form.elements.instance.value.trim()
      .replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    if (server) {
      window.open("https://" + server + "/share?text=" +
        encodeURIComponent(form.getAttribute("data-mastodon-text")), "_blank", "noopener");
    }
  });
})();
