"""``grapevine``: import data, see what the store holds, run the demo, serve the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from grapevine import __version__
from grapevine.cli import (
    _campaign,
    _campaign_init,
    _coupons,
    _keys,
    _links,
    _listen,
    _listen_social,  # noqa: F401  (registers listen add-hackernews, -bluesky, -reddit, -x)
    _outbound,
    _payouts,
    _report,
    _review,
    _stats,
    _users,
    _webhook_secrets,
)
from grapevine.cli._errors import ErrorBoundary
from grapevine.cli._errors import failure as _fail
from grapevine.cli._options import (
    CascadeFormat,
    DbOption,
    DiffusionModel,
    FormatOption,
    SentimentLanguage,
    TieKind,
)
from grapevine.errors import BadInput, GrapevineError

app = typer.Typer(
    name="grapevine",
    help="Grapevine: word-of-mouth marketing analytics. Import social data, measure how it "
    "spreads, find the people whose word travels.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=ErrorBoundary,
)
import_app = typer.Typer(
    help="Import a file into the store (one transaction per batch; re-runs add nothing twice).",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
app.add_typer(_listen.listen_app, name="listen")
app.add_typer(_listen.inbox_app, name="inbox")
app.add_typer(_campaign.campaign_app, name="campaign")
_campaign.campaign_app.command("init")(_campaign_init.init)
_campaign.campaign_app.command("misses")(_links.misses)
_campaign.campaign_app.command("stats")(_stats.stats)
_campaign.campaign_app.command("leaderboard")(_stats.leaderboard)
app.add_typer(_keys.tenant_app, name="tenant")
_keys.tenant_app.command("landing")(_links.landing)
_keys.tenant_app.add_typer(_webhook_secrets.webhook_secret_app, name="webhook-secret")
app.add_typer(_keys.apikey_app, name="apikey")
app.command("erase")(_keys.erase)
app.add_typer(_review.review_app, name="review")
app.add_typer(_users.user_app, name="user")
app.add_typer(_outbound.outbound_app, name="outbound")
app.add_typer(_coupons.coupons_app, name="coupons")
app.add_typer(_coupons.shop_app, name="shop")
app.add_typer(_payouts.payouts_app, name="payouts")
app.command("report")(_report.report)
graph_app = typer.Typer(
    help="Edge-list files: write the binary cache that planning reads instead of the text.",
    no_args_is_help=True,
)
app.add_typer(graph_app, name="graph")

PlatformOption = Annotated[
    str | None,
    typer.Option(
        help="Namespace of the ids in the file (default: the format's name).", show_default=False
    ),
]
BatchOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Rows per transaction (default: $GRAPEVINE_BATCH_SIZE or 50,000).",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"grapevine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Grapevine: word-of-mouth marketing analytics."""


def _run_import(
    fmt: str,
    path: Path,
    db: str | None,
    platform: str | None,
    batch_size: int | None,
    **options: object,
) -> None:
    from grapevine.cli._render import import_progress, import_report
    from grapevine.store import Store, import_file

    try:
        with Store(db) as store, import_progress(f"{fmt} {path.name}") as on_batch:
            report = import_file(
                store,
                fmt,
                path,
                platform=platform,
                batch_size=batch_size,
                on_batch=on_batch,
                **options,
            )
    except GrapevineError as exc:
        raise _fail(exc) from None
    import_report(report)


@import_app.command("higgs")
def import_higgs(
    path: Annotated[Path, typer.Argument(help="higgs-activity_time.txt[.gz]")],
    db: DbOption = None,
    platform: PlatformOption = None,
    batch_size: BatchOption = None,
) -> None:
    """SNAP Higgs Twitter activity stream: 'userA userB time RT|MT|RE' lines become timed ties."""
    _run_import("higgs", path, db, platform, batch_size)


@import_app.command("edges")
def import_edges(
    path: Annotated[Path, typer.Argument(help="An edge-list file (.gz allowed).")],
    kind: Annotated[TieKind, typer.Option(help="Tie kind of every edge.")] = "follows",
    undirected: Annotated[bool, typer.Option(help="Store each edge both ways.")] = False,
    self_loops: Annotated[bool, typer.Option(help="Keep u -> u edges.")] = False,
    db: DbOption = None,
    platform: PlatformOption = None,
    batch_size: BatchOption = None,
) -> None:
    """Edge list: SNAP, 'u v \\[w]', 'n m' header, CSV/TSV with header, or 'u:v1,v2' lines.

    Repeated edges become one tie with summed weight; both they and self-loops are reported.
    """
    _run_import(
        "edges",
        path,
        db,
        platform,
        batch_size,
        kind=kind,
        directed=not undirected,
        self_loops=self_loops,
    )


@import_app.command("cascades")
def import_cascades(
    path: Annotated[Path, typer.Argument(help="A cascade file.")],
    format: Annotated[CascadeFormat, typer.Option(help="The cascade file's format.")] = "auto",
    db: DbOption = None,
    platform: PlatformOption = None,
    batch_size: BatchOption = None,
) -> None:
    """Cascades (FOREST, MS-HGAT, Inf-VAE, DeepHawkes/CasFlow Weibo): one post per adoption."""
    _run_import("cascades", path, db, platform, batch_size, format=format)


@import_app.command("netdiffuser")
def import_netdiffuser(
    nodes: Annotated[Path, typer.Argument(help="CSV with node,toa[,...] columns.")],
    edges: Annotated[Path | None, typer.Option(help="CSV with ego,alter[,relation].")] = None,
    innovation: Annotated[str, typer.Option(help="Name of the adopted innovation.")] = "innovation",
    censored: Annotated[
        float | None,
        typer.Option(
            help="The toa value meaning 'never adopted' (default: the largest in the file).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    platform: PlatformOption = None,
    batch_size: BatchOption = None,
) -> None:
    """netdiffuseR-style adoption table (+ nomination edges): persons, adoptions and ties."""
    _run_import(
        "netdiffuser",
        nodes,
        db,
        platform,
        batch_size,
        edges=edges,
        innovation=innovation,
        censored=censored,
    )


def _generic(kind: str) -> None:
    @import_app.command(
        kind,
        help=f"Generic {kind} file (CSV with a header, or JSON Lines); "
        "columns in docs/import-formats.md.",
    )
    def _cmd(
        path: Annotated[Path, typer.Argument(help="A .csv or .jsonl file (.gz allowed).")],
        kind_: Annotated[
            TieKind, typer.Option("--kind", help="Tie kind where a row has none (ties only).")
        ] = "interacted",
        db: DbOption = None,
        platform: PlatformOption = None,
        batch_size: BatchOption = None,
    ) -> None:
        options: dict[str, object] = {"tie_kind": kind_} if kind == "ties" else {}
        _run_import(kind, path, db, platform, batch_size, **options)


for _kind in ("persons", "ties", "posts"):
    _generic(_kind)


#: The columns of ``grapevine info --format csv``: one row per count.
INFO_CSV_KEYS = (
    "what",
    "platform",
    "kind",
    "count",
    "timed",
    "cascades",
    "with_parent",
    "first",
    "last",
)


def _info_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The store summary's counts as records: persons per platform, ties per platform and
    kind, posts per platform, then the campaigns and referral events."""
    rows = [{"what": "persons", **row} for row in summary["persons"]]
    rows += [{"what": "ties", **row} for row in summary["ties"]]
    rows += [{"what": "posts", **row} for row in summary["posts"]]
    rows += [{"what": name, "count": summary[name]} for name in ("campaigns", "referral_events")]
    return rows


@app.command()
def info(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (as --format json).")] = False,
    format: FormatOption = None,
) -> None:
    """What the store holds: persons, ties by kind, posts and cascades, recent imports.

    --format json prints the whole summary (import runs included); --format csv prints the
    counts, one row per platform and kind (columns what, platform, kind, count, timed,
    cascades, with_parent, first, last; times in Unix seconds).
    """
    from grapevine.cli._output import output_format, write_csv
    from grapevine.cli._render import console, summary_tables
    from grapevine.store import Store

    fmt = output_format(format, as_json=as_json)
    try:
        with Store(db, create=False) as store:
            summary = store.summary()
    except GrapevineError as exc:
        raise _fail(exc) from None
    if fmt == "json":
        typer.echo(json.dumps(summary, indent=2))
        return
    if fmt == "csv":
        write_csv(_info_rows(summary), INFO_CSV_KEYS)
        return
    console.print(f"[bold]Store[/] {summary['url']}")
    for table in summary_tables(summary):
        console.print(table)
    console.print(
        f"campaigns: {summary['campaigns']:,}   referral events: {summary['referral_events']:,}"
    )


@app.command()
def cascades(
    db: DbOption = None,
    platform: PlatformOption = None,
    top: Annotated[int, typer.Option(min=1, help="How many cascades to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per cascade.")] = False,
    format: FormatOption = None,
    infer: Annotated[
        bool,
        typer.Option(
            help="Infer missing parent links from the platform's ties: the most recent earlier "
            "adopter the author follows."
        ),
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write plots (largest tree, growth curve, R(t) with the tipping moment) as PNG "
            "and SVG into this folder.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The largest cascade trees with their metrics (size, depth, structural virality...).

    Trees come from the posts' parent links, or from retweet ties (one star per author).
    """
    from grapevine.cli._cascades import show_cascades
    from grapevine.cli._output import output_format
    from grapevine.store import Store

    fmt = output_format(format, as_json=as_json)
    try:
        with Store(db, create=False) as store:
            show_cascades(store, platform=platform, top=top, fmt=fmt, infer=infer, plot_dir=plot)
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def reach(
    cascade: Annotated[str, typer.Argument(help="The cascade (campaign, story) id.")],
    db: DbOption = None,
    platform: PlatformOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    format: FormatOption = None,
) -> None:
    """Adopters of a cascade split into organic (from the root), viral (via a friend) and paid."""
    from grapevine.cli._cascades import show_reach
    from grapevine.cli._output import output_format
    from grapevine.store import Store

    fmt = output_format(format, as_json=as_json)
    try:
        with Store(db, create=False) as store:
            show_reach(store, platform=platform, cascade=cascade, fmt=fmt)
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def forecast(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A cascade file (FOREST, MS-HGAT, Inf-VAE, Weibo); omit it to forecast the "
            "store's cascades (--db, --platform, --cascade).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    platform: PlatformOption = None,
    cascade: Annotated[
        str | None,
        typer.Option(
            help="Only this cascade (the older ones still serve as history).", show_default=False
        ),
    ] = None,
    at: Annotated[
        str,
        typer.Option(
            help="Observe each cascade up to this long after its first event: 90, 30m, 1h, 2d."
        ),
    ] = "1h",
    model: Annotated[
        str,
        typer.Option(
            help="The model asked first: hawkes (power-law kernel, maximum likelihood) or "
            "seismic; where it cannot forecast, the log-linear regression on the older "
            "cascades answers. loglinear: that regression for every cascade."
        ),
    ] = "hawkes",
    reference: Annotated[
        str,
        typer.Option(
            help="Forecast the count at this age after the first event (e.g. 24h, 3d). The "
            "regression learns it only from older cascades that had reached this age by the "
            "forecast's time (start + --at); a final size is never known then, so 'final' is "
            "refused. Where none had, the answer is the observed count, a floor."
        ),
    ] = "24h",
    level: Annotated[
        float,
        typer.Option(min=0.5, max=0.99, help="Coverage of the log-linear model's interval."),
    ] = 0.9,
    history: Annotated[
        int,
        typer.Option(
            min=1, help="The log-linear model learns from this many most recent older cascades."
        ),
    ] = 300,
    format: Annotated[CascadeFormat, typer.Option(help="The cascade file's format.")] = "auto",
    degree: Annotated[
        float | None,
        typer.Option(
            help="Follower count assumed for every event (these files carry none); default: "
            "SEISMIC's n* (100), 1 for Hawkes.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Forecast only the first N cascades.", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per cascade.")] = False,
) -> None:
    """Forecast each cascade's count at --reference in a file or the store from its first --at.

    A file needs no store. Every cascade gets a number and an interval: from the Hawkes
    process (which forecasts the final size) or SEISMIC when they can forecast, otherwise from
    a log-linear regression of later on early counts (Szabo-Huberman, split-conformal
    interval) learned only from what was known at the forecast's time. Without such history
    the regression answers with the observed count and [observed, inf). Each line says which
    model answered, why the first one could not, and the actual count in the file. Measured
    errors: docs/forecast-fallback.md (on the shared Twitter cascades the regression is worse
    than forecasting no growth).
    """
    from grapevine.cli._forecast import (
        cascades_from_file,
        cascades_from_posts,
        forecast_cascades,
        parse_duration,
        parse_reference,
    )
    from grapevine.store import Store

    try:
        if model not in ("hawkes", "seismic", "loglinear"):
            raise BadInput(
                f"unknown model {model!r}: use hawkes, seismic or loglinear", field="model"
            )
        seconds = parse_duration(at)
        horizon = parse_reference(reference)
        if path is None:
            with Store(db, create=False) as store:
                posts = store.posts(platform=platform)
            cascades = cascades_from_posts(posts, cascade)
        else:
            cascades = cascades_from_file(path, format)
        forecast_cascades(
            cascades,
            at=seconds,
            model=model,
            reference=horizon,
            level=level,
            history=history,
            degree=degree,
            as_json=as_json,
            limit=limit,
            cascade=cascade,
        )
    except GrapevineError as exc:
        raise _fail(exc) from None


ModelOption = Annotated[
    DiffusionModel, typer.Option(help="ic (Independent Cascade) or lt (Linear Threshold).")
]
ProbabilitiesOption = Annotated[
    str,
    typer.Option(
        help="Per-arc probabilities: wc (1/in-degree), trivalency, uniform (0.01), weight (the "
        "file's third column), a number, or a 'u v p' file (unlisted arcs get 0)."
    ),
]
RandomStateOption = Annotated[
    int | None,
    typer.Option(
        min=0, help="Seed of the random streams (same value, same result).", show_default=False
    ),
]


SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="Address of a Dask scheduler (tcp://host:8786): sample the RR sets and run the "
        "simulations on its workers (the same result as on local threads; needs the dask "
        "extra; not with --budget).",
        show_default=False,
    ),
]
NoCacheOption = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Parse the edge-list file even when its binary cache (FILE.grapevine.npz, see "
        "`grapevine graph convert`) is current, and write none.",
    ),
]
SimulateSchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of a Dask scheduler (tcp://host:8786): run the simulations on its "
        "workers (the same result as on local threads; needs the dask extra).",
        show_default=False,
    ),
]


@app.command()
def plan(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="An edge-list file ('u v [p]' lines, SNAP, CSV...); omit it to use the store's "
            "ties (--db, --platform).",
            show_default=False,
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Number of seeds.")] = 50,
    model: ModelOption = "ic",
    probabilities: ProbabilitiesOption = "wc",
    epsilon: Annotated[
        float, typer.Option(min=0, max=1, help="IMM accuracy: reach within 1 - 1/e - epsilon.")
    ] = 0.1,
    algorithm: Annotated[
        Literal["opimc", "imm"],
        typer.Option(help="Seed selection with --k: opimc (certified ratio) or imm."),
    ] = "opimc",
    runs: Annotated[int, typer.Option(min=1, help="Simulations of the chosen seeds.")] = 1000,
    steps: Annotated[int, typer.Option(min=0, help="Rounds (viral cycles) to report.")] = 4,
    db: DbOption = None,
    platform: PlatformOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    format: Annotated[
        Literal["table", "json", "csv"] | None,
        typer.Option(
            "--format",
            help="table, json (the whole plan) or csv (the seeds: order, seed, cost, gain; "
            "with --discount: order, seed, discount, probability).",
            show_default=False,
        ),
    ] = None,
    random_state: RandomStateOption = None,
    budget: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Total budget: choose seeds by cost (--costs) instead of --k, or, with "
            "--discount, partial discounts that add up to at most this many full ones.",
            show_default=False,
        ),
    ] = None,
    costs: Annotated[
        str | None,
        typer.Option(
            help="Seed costs with --budget: uniform (1 each, the default), degree (1 + "
            "out-degree), or a file of 'id cost' lines or a CSV with columns id,cost.",
            show_default=False,
        ),
    ] = None,
    default_cost: Annotated[
        float | None,
        typer.Option(
            min=0, help="Cost of the people the cost file leaves out.", show_default=False
        ),
    ] = None,
    discount: Annotated[
        Literal["linear", "concave", "sqrt"] | None,
        typer.Option(
            help="With --budget: offer partial discounts; the chance a person takes a "
            "discount c is linear (c), concave (2c - c^2) or sqrt (√c).",
            show_default=False,
        ),
    ] = None,
    levels: Annotated[
        str | None,
        typer.Option(
            help="Discount levels for --discount, e.g. 0.25,0.5,1 (default 0.1,0.2,...,1).",
            show_default=False,
        ),
    ] = None,
    cascades: Annotated[
        Path | None,
        typer.Option(
            help="Cascade file to learn from with --probabilities learned.", show_default=False
        ),
    ] = None,
    learner: Annotated[
        Literal["bernoulli", "jaccard", "em"],
        typer.Option(help="How to learn probabilities: bernoulli, jaccard or em."),
    ] = "bernoulli",
    tipping: Annotated[
        bool,
        typer.Option(
            "--tipping",
            help="With --budget: print the reach-against-budget curve and its tipping budget.",
        ),
    ] = False,
    tipping_points: Annotated[
        int, typer.Option(min=2, help="Budgets on the --tipping curve (from 0 to --budget).")
    ] = 20,
    plot: Annotated[
        Path | None,
        typer.Option(help="With --tipping: also draw the curve to this PNG.", show_default=False),
    ] = None,
    scheduler: SchedulerOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Choose the k people to seed (OPIM-C or IMM), or seeds or discounts under a budget, and reach.

    Prints each seed with its marginal gain (and cost), then the mean, 5th and 95th
    percentile of the people reached after every round up to --steps, and at the end of
    the cascade. --budget switches to seeds with costs (--costs; --k is ignored), --budget
    with --discount to partial discounts per person; --tipping adds the reach against
    budget. --probabilities learned --cascades FILE learns the arcs' probabilities from
    observed cascades.
    """
    from grapevine.cli._output import output_format
    from grapevine.cli._plan import dask_client, load_graph, plan_campaign, probabilities_arg
    from grapevine.cli._render import step

    fmt = output_format(format, as_json=as_json)
    as_json = fmt == "json"
    try:
        if scheduler is not None and budget is not None:
            raise BadInput("--scheduler works with --k, not --budget", field="scheduler")
        if budget is None:
            for name, value in (
                ("--costs", costs), ("--discount", discount), ("--tipping", tipping or None),
                ("--default-cost", default_cost), ("--levels", levels), ("--plot", plot),
            ):  # fmt: skip
                if value is not None:
                    raise BadInput(f"{name} needs --budget", field=name.lstrip("-"))
        with step("reading the graph"):
            graph = load_graph(path, db, platform, cache=not no_cache)
        if budget is None:
            with dask_client(scheduler) as client:
                plan_campaign(
                    graph,
                    k=k,
                    model=model,
                    probabilities=probabilities,
                    epsilon=epsilon,
                    runs=runs,
                    steps=steps,
                    random_state=random_state,
                    as_json=as_json,
                    cascades=cascades,
                    learner=learner,
                    algorithm=algorithm,
                    client=client,
                    fmt=fmt,
                )
            return
        from grapevine.cli import _plan_budget as pb

        probs = probabilities_arg(graph, probabilities, cascades, learner)
        name = pb.probabilities_name(probabilities, cascades, learner)
        if discount is not None:
            if costs is not None or tipping:
                raise BadInput("--discount does not combine with --costs or --tipping")
            pb.plan_discounts(
                graph, budget=budget, curve=discount, levels=pb.levels_arg(levels), model=model,
                probs=probs, probs_name=name, runs=runs, steps=steps,
                random_state=random_state, as_json=as_json, fmt=fmt,
            )  # fmt: skip
            return
        pb.plan_budget(
            graph, budget=budget, costs=pb.costs_arg(graph, costs or "uniform", default_cost),
            model=model, probs=probs, probs_name=name, epsilon=epsilon, runs=runs,
            steps=steps, random_state=random_state, as_json=as_json, tipping=tipping,
            points=tipping_points, plot=plot, fmt=fmt,
        )  # fmt: skip
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def simulate(
    path: Annotated[Path, typer.Argument(help="An edge-list file.")],
    seeds: Annotated[
        Path, typer.Option(help="File with one seed label per line.", show_default=False)
    ],
    runs: Annotated[int, typer.Option(min=1, help="Number of simulations.")] = 1000,
    model: ModelOption = "ic",
    probabilities: ProbabilitiesOption = "wc",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    random_state: RandomStateOption = None,
    scheduler: SimulateSchedulerOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Simulate how far a message spreads from the given seeds: the reach distribution."""
    from grapevine.cli._plan import dask_client, load_graph, simulate_campaign

    try:
        graph = load_graph(path, None, None, cache=not no_cache)
        with dask_client(scheduler) as client:
            simulate_campaign(
                graph,
                seeds,
                model=model,
                probabilities=probabilities,
                runs=runs,
                random_state=random_state,
                as_json=as_json,
                client=client,
            )
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def sentiment(
    path: Annotated[Path, typer.Argument(help="One text per line, or a CSV with --column.")],
    column: Annotated[
        str | None,
        typer.Option(
            help="The CSV column holding the text (needed for a .csv or .tsv file).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[
        SentimentLanguage | None,
        typer.Option(
            help="The language of every text (the model knows these); detected per text when "
            "omitted.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        Literal["fast", "accurate"],
        typer.Option(help="fast (TF-IDF, ~3k texts/s) or accurate (+ E5, ~40 texts/s)."),
    ] = "fast",
    id_column: Annotated[
        str | None,
        typer.Option(
            help="The CSV column identifying each text (default: 'id' where there is one).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per text.")] = False,
    format: FormatOption = None,
) -> None:
    """Language and sentiment of every text in a file, with its line, id and text (no store
    needed).

    Labels are negative, neutral or positive with the model's probability; a language the
    model was not trained on (it knows de, en, nl, sv) is "unscored", never guessed.
    --format json gives one JSON line per text, csv one row.
    """
    from grapevine.cli._output import output_format
    from grapevine.cli._text import sentiment_file

    fmt = output_format(format, as_json=as_json)
    try:
        sentiment_file(
            path, column=column, lang=lang, model_name=model, fmt=fmt, id_column=id_column
        )
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def alerts(
    path: Annotated[Path, typer.Argument(help="A CSV with timestamp,value columns (NAB style).")],
    threshold: Annotated[
        float, typer.Option(help="Robust z-score on log counts that raises an alert.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per alert.")] = False,
    format: FormatOption = None,
) -> None:
    """The spike alerts a volume series would have raised (no store needed).

    Each alert says when it was raised (using only earlier data), how many times the usual
    volume for that weekday and hour it saw, then the statistics: the level expected at that
    time of day, the score and the threshold.
    """
    from grapevine.cli._output import output_format
    from grapevine.cli._text import alerts_file

    fmt = output_format(format, as_json=as_json)
    try:
        alerts_file(path, threshold=threshold, fmt=fmt)
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def influencers(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="An edge-list file; omit it to use the store's ties (--db, --platform).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    platform: PlatformOption = None,
    top: Annotated[int, typer.Option(min=1, help="How many people per role.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    format: FormatOption = None,
    csv: Annotated[
        Path | None,
        typer.Option(help="Write every person's scores to this CSV.", show_default=False),
    ] = None,
    gexf: Annotated[
        Path | None,
        typer.Option(help="Write the graph with role scores for Gephi (GEXF).", show_default=False),
    ] = None,
    random_state: Annotated[int, typer.Option(help="Seed of the community detection.")] = 0,
    conversions: Annotated[
        Path | None,
        typer.Option(
            help="CSV of exposures for the salesman score: exposer (empty: nobody in "
            "particular), exposed, converted (0/1), optional time; other columns are matched on.",
            show_default=False,
        ),
    ] = None,
    no_cache: NoCacheOption = False,
) -> None:
    """The top connectors, mavens and salesmen, each with the reason for the score.

    Connectors come from the network (communities reached, betweenness, k-shell); mavens from
    the store's cascades (how early people adopt); salesmen from --conversions (the lift of
    the people they exposed over matched comparable exposures). People without the data
    are left out, and a role nobody has data for says what would fill it. Ties on a score
    go by a second measure (betweenness, cascades, exposures), then by id.
    """
    from grapevine.cli._output import output_format
    from grapevine.cli._render import step
    from grapevine.cli._roles import influencer_inputs, read_conversions, show_influencers

    fmt = output_format(format, as_json=as_json)
    try:
        with step("reading the graph and the cascades"):
            graph, adoptions = influencer_inputs(path, db, platform, cache=not no_cache)
        show_influencers(
            graph,
            adoptions=adoptions,
            conversions=None if conversions is None else read_conversions(conversions),
            top=top,
            fmt=fmt,
            csv_path=csv,
            gexf_path=gexf,
            random_state=random_state,
        )
    except GrapevineError as exc:
        raise _fail(exc) from None


@graph_app.command("convert")
def graph_convert(
    path: Annotated[Path, typer.Argument(help="An edge-list file (any format plan reads).")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the cache here instead of FILE.grapevine.npz (or the cache folder "
            "when FILE's folder is not writable); plan finds it only at those places.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Parse an edge-list file once and write its binary cache (CSR arrays and ids, .npz).

    plan, simulate and influencers then read the cache while the file's size and SHA-256 are
    unchanged, and rebuild it otherwise.
    """
    from grapevine.cli._graph import convert

    try:
        convert(path, out)
    except GrapevineError as exc:
        raise _fail(exc) from None


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create the store or upgrade its schema to this version."""
    from grapevine.store import HEAD_REVISION, Store

    try:
        with Store(db):
            pass
    except GrapevineError as exc:
        raise _fail(exc) from None
    typer.echo(f"schema at revision {HEAD_REVISION}")


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to create (replaced if present).")] = Path(
        "grapevine-demo.db"
    ),
    top: Annotated[int, typer.Option(min=1, help="How many cascades to show.")] = 10,
    serve_it: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the dashboard on the demo store at the end (until Ctrl-C).",
        ),
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000,
) -> None:
    """Build one store with every capability on real data, then serve the dashboard on it.

    Imports the shipped slices (the Higgs rumour on Twitter, Weibo cascades with their
    reshare trees, the Ciao trust network and its influencer roles, labelled posts in four
    languages), saves a seed plan, runs a referral campaign simulated on the Ciao network
    through the real workflows, and serves the dashboard at http://127.0.0.1:PORT/ in demo
    mode (no login, this machine only). What is simulated is said as it is built.
    """
    import os

    from grapevine.cli._demo import run_demo

    try:
        url = run_demo(db, top=top)
    except GrapevineError as exc:
        raise _fail(exc) from None
    if not serve_it:
        return
    os.environ["GRAPEVINE_DASHBOARD_DEMO"] = "1"
    os.environ.setdefault("GRAPEVINE_IP_SALT", "grapevine-demo")
    typer.echo(f"\nThe dashboard: http://127.0.0.1:{port}/ (demo mode, no login; Ctrl-C stops)")
    serve(
        host="127.0.0.1",
        port=port,
        db=url,
        workers=1,
        access_log=False,
        forwarded_allow_ips=None,
        public_url=None,
        durable=None,
    )


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1).", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default 8000).", show_default=False)
    ] = None,
    db: DbOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes. Each keeps its own link cache and click queue: a "
            "conversion may miss a click another worker took less than "
            "GRAPEVINE_CLICK_FLUSH_MS earlier.",
        ),
    ] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (uvicorn's access log).")
    ] = True,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated addresses or networks of the reverse proxies whose "
            "X-Forwarded-For/-Proto are believed, or '*' (GRAPEVINE_FORWARDED_ALLOW_IPS). "
            "Default: nobody's; the client address is the TCP peer's.",
            show_default=False,
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The origin people reach the service at, e.g. https://go.shop.example "
            "(GRAPEVINE_PUBLIC_URL): every link and redirect starts with it. Default: "
            "http://HOST:PORT.",
            show_default=False,
        ),
    ] = None,
    durable: Annotated[
        bool | None,
        typer.Option(
            "--durable/--no-durable",
            help="Answer a /r/{code} redirect only once its click is committed (still in "
            "group commits): a crash loses no acknowledged click; measured 3,600 req/s on "
            "SQLite, 1,100 on PostgreSQL, against 6,500 by default (one worker, shared "
            "2-core machine; benchmarks/redirect_load.py). GRAPEVINE_DURABLE_CLICKS; "
            "default: off.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API with uvicorn: campaigns, /r/{code} links, events, webhooks, stats.

    Set GRAPEVINE_IP_SALT and GRAPEVINE_SECRETS_KEY first (the key that encrypts each
    tenant's webhook secrets): the routes that need them answer 503 without them. OpenAPI
    docs are at /docs.

    Clicks on /r/{code} are committed in batches (group commit). By default a redirect is
    answered before its click is committed, and a crash (SIGKILL, OOM) loses the clicks not
    yet committed: up to one flush interval (GRAPEVINE_CLICK_FLUSH_MS, 50 ms) plus the
    backlog of the writer when it falls behind the traffic, never more than
    GRAPEVINE_CLICK_MAX_QUEUE (10,000) per worker. Measured under kill -9 on a shared
    2-core machine (benchmarks/crash_loss.py, 5 kills each): worst 1,341 clicks (169 ms of
    traffic at 7,900 req/s) on SQLite, 7,349 (1.2 s at 6,000 req/s) on PostgreSQL; with the
    queue capped at 2,000, worst 1,789. With --durable a redirect is answered once its
    click is committed: no acknowledged click lost in 10 kills, at about half the default's
    throughput on SQLite and a sixth on PostgreSQL (one worker). A graceful stop (Ctrl-C,
    SIGTERM) writes every queued click first.
    """
    import os

    import uvicorn
    from pydantic import ValidationError

    from grapevine.cli._render import errors
    from grapevine.config import Settings, get_settings
    from grapevine.service import create_app, server_options

    base = get_settings()
    try:
        settings = Settings(
            database_url=db or base.database_url,
            host=host or base.host,
            port=port or base.port,
            forwarded_allow_ips=forwarded_allow_ips or base.forwarded_allow_ips,
            public_url=public_url or base.public_url,
            durable_clicks=base.durable_clicks if durable is None else durable,
        )
    except ValidationError as exc:
        raise _fail(BadInput(exc.errors()[0]["msg"].removeprefix("Value error, "))) from None
    if settings.public_url is None:
        errors.print(
            "[yellow]warning:[/] GRAPEVINE_PUBLIC_URL (--public-url) not set: links are built "
            f"on {settings.public_origin()}.",
            highlight=False,
        )
    missing = [
        name
        for name, value in (
            ("GRAPEVINE_IP_SALT", settings.ip_salt),
            ("GRAPEVINE_SECRETS_KEY", settings.secrets_key),
        )
        if value is None
    ]
    if missing:
        errors.print(
            f"[yellow]warning:[/] {', '.join(missing)} not set: the routes that need them "
            "answer 503 until they are.",
            highlight=False,
        )
    legacy = [
        name
        for name, value in (
            ("GRAPEVINE_WEBHOOK_SECRET", settings.webhook_secret),
            ("GRAPEVINE_STRIPE_WEBHOOK_SECRET", settings.stripe_webhook_secret),
        )
        if value is not None
    ]
    if legacy:
        errors.print(
            f"[yellow]warning:[/] {', '.join(legacy)} is deprecated and verifies tenant "
            "'default' only: give each tenant its own with `grapevine tenant webhook-secret "
            "rotate`.",
            highlight=False,
        )
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            access_log=access_log,
            **server_options(settings),
        )
        return
    from grapevine.store import Store

    try:
        Store(settings.database_url).close()  # migrate once, before the workers start
    except GrapevineError as exc:
        raise _fail(exc) from None
    os.environ["GRAPEVINE_DATABASE_URL"] = settings.database_url  # read by every worker
    os.environ["GRAPEVINE_DURABLE_CLICKS"] = "1" if settings.durable_clicks else "0"
    os.environ["GRAPEVINE_HOST"], os.environ["GRAPEVINE_PORT"] = settings.host, str(settings.port)
    for name, value in (
        ("GRAPEVINE_PUBLIC_URL", settings.public_url),
        ("GRAPEVINE_FORWARDED_ALLOW_IPS", settings.forwarded_allow_ips),
    ):
        if value is not None:
            os.environ[name] = value
    uvicorn.run(
        "grapevine.service:create_app",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        access_log=access_log,
        **server_options(settings),
    )


def main() -> None:
    """Entry point of the ``grapevine`` script."""
    app(prog_name="grapevine")


if __name__ == "__main__":  # pragma: no cover
    main()
