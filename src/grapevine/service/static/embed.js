/* Grapevine thank-you page snippet: enrols the buyer and shows their referral link.
 *
 * <script src="https://YOUR-GRAPEVINE/embed.js" async
 *   data-campaign="7" data-email="buyer@example.com"
 *   data-ts="1700000000" data-signature="HMAC-SHA256 hex of '7.buyer@example.com.1700000000'"
 *   data-target="#referral"></script>
 *
 * The shop's server computes the signature with the webhook secret
 * (grapevine.referrals.embed_signature); the browser never holds a key. Everything the
 * server returns is inserted as text, never as HTML. The words come from the server too,
 * in the buyer's language (their browser's Accept-Language, else the campaign's).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.src).origin;
  var d = script.dataset;
  var body = new URLSearchParams({
    campaign: d.campaign || "", email: d.email || "", ts: d.ts || "", sig: d.signature || ""
  });

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function render(data) {
    var t = data.texts || {};
    var box = el("div", { "class": "gv-box", "data-grapevine": "box" });
    box.appendChild(el("p", {}, data.headline || "Share with friends and both of you save."));
    var input = el("input", { readonly: "", value: data.share.copy, "data-grapevine": "link",
                              "aria-label": t.link || "Your referral link", size: "40" });
    box.appendChild(input);
    var copy = el("button", { type: "button" }, t.copy || "Copy");
    copy.addEventListener("click", function () {
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value); }
      copy.textContent = t.copied || "Copied";
    });
    box.appendChild(copy);
    box.appendChild(el("p", {}, (t.code || "Your code:") + " " + data.code));
    var list = el("p", { "data-grapevine": "share" });
    ["whatsapp", "facebook", "x", "linkedin", "mastodon", "email"].forEach(function (ch) {
      var a = el("a", { href: data.share[ch], target: "_blank", rel: "noopener noreferrer",
                        "data-channel": ch }, data.labels[ch] || ch);
      list.appendChild(a);
      list.appendChild(document.createTextNode(" "));
    });
    box.appendChild(list);
    box.appendChild(el("a", { href: data.page, "data-grapevine": "page" }, t.page || "Your referrals"));
    var target = d.target && document.querySelector(d.target);
    if (target) { target.appendChild(box); } else { script.parentNode.insertBefore(box, script.nextSibling); }
  }

  fetch(base + "/embed/enrol", { method: "POST", body: body, credentials: "omit" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(render)
    .catch(function (err) {
      if (window.console) { console.warn("grapevine: could not enrol the buyer", err); }
    });
})();
