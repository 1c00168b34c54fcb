"""Figures for people: every one has labelled axes with units, log scales where values span
decades, a legend and a title that says what is compared with what. Plotting only: the numbers
come from ``compare``, ``history`` and the operations' work counts.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines or in CI
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from ptbench.analysis.compare import EQUIVALENT, FASTER, INCONCLUSIVE, SLOWER, Comparison  # noqa: E402
from ptbench.core.schema import SECONDS, STATUS_OK, UNIT_AXIS_LABELS, latest, operation_name  # noqa: E402
from ptbench.present import tables  # noqa: E402
from ptbench.suite.operations import OPERATIONS, of_benchmark  # noqa: E402

# Inconclusive is amber, never a pass's colour: the data could not tell.
VERDICT_COLOURS = {
    SLOWER: "#c0392b", FASTER: "#1e8449", INCONCLUSIVE: "#e6a23c", EQUIVALENT: "#7f8c8d"
}  # fmt: skip
OTHER_COLOUR = "#bdc3c7"


def describe(selector: dict[str, str]) -> str:
    """``torch=2.14.1+cu130``: a selector for a title or legend, commits cut to 8 characters."""
    return ", ".join(
        f"{key}={str(value)[:8] if key == 'commit' else value}" for key, value in selector.items()
    )


def _line_labels(pairs: pd.DataFrame, keys: list[str]) -> pd.Series:
    """One label per pair: the benchmark and whichever other keys vary among the pairs."""
    varying = [
        key
        for key in keys
        if key not in ("benchmark", "size") and key in pairs and pairs[key].nunique(dropna=True) > 1
    ]
    names = pairs["benchmark"].map(operation_name)
    # Missing values (no dtype for a creation op, say) are left out, not printed as "nan".
    columns = [names, *(pairs[key].astype(str).str[:8] if key == "commit" else pairs[key]
                        for key in varying)]  # fmt: skip
    labels = [
        " ".join(str(value)[:40] for value in row if pd.notna(value) and value != "nan")
        for row in zip(*columns, strict=True)
    ]
    return pd.Series(labels, index=pairs.index, dtype=object)


DRAWN_RATIOS = 1e300


def _comparable(comparison: Comparison) -> pd.DataFrame:
    """Pairs with a ratio a log axis can show, with its margins and its inverse (the speedup):
    within ``DRAWN_RATIOS`` (not 0 -> x memory changes; a hostile pass: a time of 1e308 s
    made the axis limits infinite, an internal error in report)."""
    ratios = comparison.pairs["ratio"]
    return comparison.pairs[(ratios > 1 / DRAWN_RATIOS) & (ratios < DRAWN_RATIOS)]


def _most_changed(pairs: pd.DataFrame, labels: pd.Series, most: int) -> pd.Series:
    """The ``most`` labels whose median ratio is furthest from 1, as a mask over ``pairs``."""
    distance = np.abs(np.log(pairs["ratio"])).groupby(labels).median()
    return labels.isin(distance.nlargest(most).index)


def _shown(total: int, most: int) -> str:
    return f" ({most} most changed of {total})" if total > most else ""


def speedup_vs_size(
    comparison: Comparison, baseline: dict, contender: dict, most: int = 10
) -> plt.Figure:
    """Speedup of the contender over the baseline (baseline time / contender time) by size,
    one line per operation variant: the ``most`` most changed, so the picture stays legible."""
    pairs = _comparable(comparison)
    labels = _line_labels(pairs, comparison.keys)
    total = labels.nunique()
    keep = _most_changed(pairs, labels, most)
    pairs, labels = pairs[keep], labels[keep]
    figure, axes = plt.subplots(figsize=(11, 5.5))
    low, high = _ratio_view(1 / pairs["ratio"], comparison.factor)
    for label, line in pairs.groupby(labels):
        line = line.sort_values("size")
        speedup = 1 / line["ratio"]
        whiskers = _lengths(speedup, 1 / line["ratio_high"], 1 / line["ratio_low"], (low, high))
        _line, _caps, (bars,) = axes.errorbar(
            line["size"].astype(float), speedup, yerr=whiskers, marker="o", markersize=4,
            capsize=2, elinewidth=0.8, label=label,
        )  # fmt: skip
        bars.set_alpha(0.35)  # the estimates lead; intervals stay readable behind them
    axes.axhline(1.0, color="black", linewidth=1, linestyle="--", label="equal (1.0)")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_ylim(low, high)  # the estimates, not whiskers of pairs judged from few rounds
    _ratio_ticks(axes.yaxis, low, high)
    axes.set_xlabel("size (elements, or matrix order n)")
    axes.set_ylabel("speedup: baseline / contender\n(time, or peak bytes; > 1: contender better)")
    axes.set_title(
        f"Speedup of {describe(contender)} over {describe(baseline)}{_shown(total, most)}"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the data
    figure.set_layout_engine("tight")
    return figure


def comparison_bars(
    comparison: Comparison, baseline: dict, contender: dict, most: int = 40
) -> plt.Figure:
    """A bar per pair, sorted by ratio, 99% whiskers; the ``most`` largest changes.

    The axis spans the estimates (and the factor), not the whiskers: a pair judged from a few
    rounds can have an interval of 1e-3 to 1e5, and an axis stretched to it would flatten
    every bar. Whiskers beyond the axis run to its edge and end in an arrowhead there."""
    pairs = _comparable(comparison).copy()
    pairs["distance"] = np.abs(np.log(pairs["ratio"]))
    pairs = pairs.nlargest(most, "distance").sort_values("ratio")
    labels = _line_labels(pairs, comparison.keys)
    if "size" in pairs:
        labels = labels + [f" size={size}" if pd.notna(size) else "" for size in pairs["size"]]
    figure, axes = plt.subplots(figsize=(9, 1.6 + 0.22 * max(len(pairs), 1)))
    low, high = _ratio_view(pairs["ratio"], comparison.factor)
    colours = [VERDICT_COLOURS.get(verdict, OTHER_COLOUR) for verdict in pairs["verdict"]]
    whiskers = _whiskers(pairs, low, high)
    positions = np.arange(len(pairs))
    axes.barh(positions, pairs["ratio"] - 1, left=1, color=colours)
    axes.errorbar(
        pairs["ratio"], positions, xerr=whiskers, fmt="none", ecolor="black", elinewidth=0.8,
        capsize=2,
    )  # fmt: skip
    _off_axis(axes, pairs, positions, (low, high))
    axes.axvline(1.0, color="black", linewidth=1)
    for bound in (comparison.factor, 1 / comparison.factor):
        axes.axvline(bound, color="black", linewidth=0.8, linestyle=":")
    axes.set_xscale("log")
    axes.set_xlim(low, high)
    _ratio_ticks(axes.xaxis, low, high)
    axes.set_yticks(positions, labels, fontsize=7)
    axes.set_ylim(-0.7, len(pairs) - 0.3)
    axes.set_ylabel("benchmark and parameters")
    axes.set_xlabel("ratio: contender / baseline (> 1: contender slower; dotted: --factor)")
    axes.set_title(f"{describe(contender)} vs {describe(baseline)}: {len(pairs)} largest changes")
    _verdict_legend(figure)
    axes.grid(True, axis="x", which="both", alpha=0.3)
    figure.set_layout_engine("tight", rect=(0, 0.3 / figure.get_figheight(), 1, 1))
    return figure


def _off_axis(axes, pairs: pd.DataFrame, positions: np.ndarray, view: tuple[float, float]):
    """An arrowhead at the axis edge where a whisker runs past it, so that an interval of
    [0, 8645] cannot pass for one of a few percent."""
    ends = np.array([tables.shown_interval(row) for _, row in pairs.iterrows()], dtype=float)
    if not len(ends):
        return
    for column, edge, marker in ((0, view[0], "<"), (1, view[1], ">")):
        beyond = (ends[:, column] < edge) if column == 0 else (ends[:, column] > edge)
        if beyond.any():
            axes.plot(np.full(beyond.sum(), edge), positions[beyond], linestyle="none",
                      marker=marker, color="black", markersize=5, clip_on=False)  # fmt: skip


def _whiskers(pairs: pd.DataFrame, low: float, high: float) -> list[pd.Series]:
    """Lengths below and above each ratio of the interval tables show for it
    (``tables.shown_interval``), cut at the axis limits ``low`` and ``high``."""
    ends = [tables.shown_interval(row) for _, row in pairs.iterrows()]
    shown = pd.DataFrame(ends, index=pairs.index, columns=["low", "high"], dtype=float)
    return _lengths(pairs["ratio"], shown["low"], shown["high"], (low, high))


def _lengths(
    centre: pd.Series, low: pd.Series, high: pd.Series, view: tuple[float, float] | None = None
) -> list[pd.Series]:
    """Whisker lengths (below, above) from ``centre`` to ``low`` and ``high``, cut at the axis
    limits ``view`` when given; 0 where an end is unknown. Every figure's whiskers."""
    if view is not None:
        low, high = low.clip(lower=view[0]), high.clip(upper=view[1])
    return [(centre - low).clip(lower=0).fillna(0), (high - centre).clip(lower=0).fillna(0)]


def _matching(rows: pd.DataFrame, identity: dict) -> pd.DataFrame:
    """The rows whose columns hold ``identity``'s values (compared as text: sizes arrive as
    numbers from the table and as strings from a selector). Every figure's filter."""
    for key, value in identity.items():
        rows = rows[rows[key].astype(str) == str(value)]
    return rows


def _ratio_view(ratios: pd.Series, factor: float) -> tuple[float, float]:
    """Axis limits that hold every estimate and both factor lines, with a margin."""
    low = min(float(ratios.min()) if len(ratios) else 1.0, 1 / factor)
    high = max(float(ratios.max()) if len(ratios) else 1.0, factor)
    return low / 1.15, high * 1.15


RATIO_TICKS = (0.1, 0.2, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)


def _ratio_ticks(axis, low: float, high: float) -> None:
    """Readable ratios (0.8, 0.9, 1, 1.1, 1.25) on a narrow log axis; decades on a wide one."""
    ticks = [tick for tick in RATIO_TICKS if low <= tick <= high]
    if high / low < 20 and len(ticks) >= 3:
        axis.set_ticks(ticks, [f"{tick:g}" for tick in ticks])
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _verdict_legend(figure: plt.Figure) -> None:
    """The verdict colours, below the axes, where they cannot cover a bar."""
    names = {SLOWER: "slower (confirmed)", FASTER: "faster (confirmed)"}
    names |= {INCONCLUSIVE: "inconclusive (cannot tell)", EQUIVALENT: "equivalent (within factor)"}
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=VERDICT_COLOURS.get(verdict, OTHER_COLOUR))
        for verdict in names
    ]
    figure.legend(handles, list(names.values()), fontsize=7, ncol=4, loc="lower center")


def scaling(
    frame: pd.DataFrame, benchmark: str, by: str = "device", where: dict | None = None
) -> plt.Figure:
    """Time and achieved throughput against size, log-log, one line per ``by`` value."""
    rows = frame[(frame["benchmark"] == benchmark) & (frame["status"] == STATUS_OK)]
    rows = latest(_matching(rows, where or {}))
    figure, (time_axes, rate_axes) = plt.subplots(1, 2, figsize=(11, 5.2))
    unit = ""
    for label, line in rows.groupby(rows[by].astype(str)):
        line = line.sort_values("size")
        unit = line["achieved_unit"].iloc[0] or unit
        time_axes.plot(line["size"].astype(float), line["value"], marker="o", label=label)
        rate_axes.plot(line["size"].astype(float), line["achieved"], marker="o", label=label)
    name = benchmark.rsplit(".", 1)[-1]
    details = f" ({describe(where)})" if where else ""
    operation = OPERATIONS.get(rows["operation"].iloc[0]) if len(rows) else None
    size_label = f"size ({operation.ladder.unit})" if operation else "size"
    for axes, ylabel in ((time_axes, "time per call (s)"), (rate_axes, f"achieved {unit}")):
        axes.set_xscale("log", base=2)
        axes.set_yscale("log")
        axes.set_xlabel(size_label)
        axes.set_ylabel(ylabel)
        axes.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"{name}{details}")  # one title: two long ones would run into each other
    time_axes.set_title("time", fontsize=10)
    rate_axes.set_title("throughput (nominal work / time)", fontsize=10)
    handles, labels = time_axes.get_legend_handles_labels()
    figure.legend(handles, labels, title=by, fontsize=8, ncol=min(len(labels), 3) or 1,
                  loc="lower center")  # below the axes, off the data  # fmt: skip
    rows_of_legend = math.ceil(len(labels) / 3) if labels else 0
    figure.set_layout_engine(
        "tight", rect=(0, (0.35 + 0.22 * rows_of_legend) / figure.get_figheight(), 1, 1)
    )
    return figure


def history(frame: pd.DataFrame, identity: dict, changes: pd.DataFrame) -> plt.Figure:
    """Value over commits for one series, its 99% interval, and the detected change points."""
    rows = _matching(frame[frame["status"] == STATUS_OK], identity).sort_values("commit_date")
    positions = np.arange(len(rows))
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.plot(positions, rows["value"], marker="o", label="median of samples")
    axes.fill_between(
        positions,
        rows["ci_99_low"].astype(float),
        rows["ci_99_high"].astype(float),
        alpha=0.2,
        label="99% interval",
    )
    commits = rows["commit"].str[:8].tolist()
    for change in changes.itertuples():
        if change.commit[:8] in commits:
            at = commits.index(change.commit[:8]) - 0.5
            axes.axvline(
                at,
                color=VERDICT_COLOURS[SLOWER if change.change > 1 else FASTER],
                linestyle="--",
                label=f"change x{change.change:.2f} at {change.commit[:8]}",
            )
    axes.set_xticks(positions, commits, rotation=45, fontsize=7)
    axes.set_xlabel("commit (oldest to newest)")
    unit = rows["unit"].iloc[0] if len(rows) else SECONDS
    axes.set_ylabel(UNIT_AXIS_LABELS.get(unit, unit))
    axes.set_yscale("log")
    axes.set_title("History of " + ", ".join(f"{k}={v}" for k, v in identity.items()))
    axes.legend(fontsize=7)
    axes.grid(True, which="both", alpha=0.3)
    return figure


def along_torch(points: pd.DataFrame, identity: dict, changes: pd.DataFrame) -> plt.Figure:
    """One benchmark on one machine and torch build line along torch versions: a line per size
    (the other parameters fixed by ``identity``), 99% whiskers, change points ringed."""
    rows = _matching(points, identity)
    changes = _matching(changes, {k: v for k, v in identity.items() if k in changes})
    versions = list(dict.fromkeys(rows.sort_values("torch_order")["torch_version"]))
    position = {version: index for index, version in enumerate(versions)}
    figure, axes = plt.subplots(figsize=(10, 4.8))
    for size, line in rows.groupby("size", dropna=False, sort=True):
        line = line.sort_values("torch_order")
        x = line["torch_version"].map(position)
        whiskers = _lengths(line["value"], line["ci_99_low"], line["ci_99_high"])
        axes.errorbar(x, line["value"], yerr=whiskers, marker="o", markersize=4, capsize=2,
                      label="" if pd.isna(size) else f"size {int(size)}")  # fmt: skip
        mine = changes[changes["size"] == size] if "size" in changes else changes
        for change in mine.itertuples():
            at = line[line["torch_version"] == change.torch_version]
            axes.plot(at["torch_version"].map(position), at["value"], "o", markersize=13,
                      markerfacecolor="none", markeredgewidth=2,
                      color=VERDICT_COLOURS[SLOWER if change.change > 1 else FASTER])  # fmt: skip
    axes.set_xticks(range(len(versions)), versions)
    axes.set_xlabel(f"torch version ({identity.get('torch_line', '')} builds, PEP 440 order)")
    unit = rows["unit"].iloc[0] if len(rows) else SECONDS
    axes.set_ylabel(UNIT_AXIS_LABELS.get(unit, unit))
    axes.set_yscale("log")
    fixed = [str(v) for k, v in identity.items() if k not in ("benchmark", "machine", "torch_line")]
    name = " ".join([operation_name(identity["benchmark"]), *fixed])
    axes.set_title(
        f"{name} on {identity.get('machine')}, along torch versions (rings: change points)"
    )
    if axes.get_legend_handles_labels()[1]:  # one unsized line needs no legend
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.grid(True, which="both", alpha=0.3)
    figure.set_layout_engine("tight")
    return figure


def _size_unit(pairs: pd.DataFrame) -> pd.Series:
    """Each pair's size unit (elements, matrix order, ...), from its operation's ladder."""
    operations = [of_benchmark(str(name)) for name in pairs["benchmark"]]
    units = [operation.ladder.unit if operation else "size" for operation in operations]
    return pd.Series(units, index=pairs.index)


def _heatmap_grids(pairs: pd.DataFrame, labels: pd.Series) -> list[tuple[str, pd.DataFrame]]:
    """(size unit, operations x sizes of median ratios) per ladder: operations measured on
    different ladders (elements, matrix order) never share columns, so no cell is left blank
    only because an operation has no such size."""
    units = _size_unit(pairs)
    grids = []
    for unit in sorted(units.unique()):
        mine = units == unit
        grid = pairs["ratio"][mine].groupby([labels[mine], pairs["size"][mine]]).median()
        grid = grid.unstack("size").dropna(how="all").dropna(axis=1, how="all")
        if grid.size:
            grids.append((unit, grid))
    return grids


def _heatmap_panel(axes, unit: str, grid: pd.DataFrame, norm: LogNorm):
    values = grid.to_numpy(dtype=float)
    image = axes.imshow(values, cmap="RdYlGn_r", aspect="auto", norm=norm)  # red: slower
    axes.set_xticks(range(grid.shape[1]), [str(size) for size in grid.columns], rotation=45,
                    fontsize=7)  # fmt: skip
    axes.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
    axes.set_xlabel(f"size ({unit})", fontsize=9)
    axes.set_ylabel("operation", fontsize=9)
    for (i, j), value in np.ndenumerate(values):
        if not math.isnan(value):
            axes.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=6)
    return image


def ratio_heatmap(
    comparison: Comparison, baseline: dict, contender: dict, most: int = 30
) -> plt.Figure:
    """The table's ratio (contender / baseline), operations x sizes, on a diverging log scale
    centred on 1 (``most`` rows), one panel per size ladder; rows and sizes with no ratio at
    all are left out."""
    pairs = _comparable(comparison)
    labels = _line_labels(pairs, comparison.keys)
    total = labels.nunique()
    keep = _most_changed(pairs, labels, most)
    grids = _heatmap_grids(pairs[keep], labels[keep]) or [("size", pd.DataFrame([[np.nan]]))]
    rows = [grid.shape[0] for _unit, grid in grids]
    width = 2.5 + 0.75 * max(grid.shape[1] for _unit, grid in grids)
    figure, panels = plt.subplots(len(grids), 1, squeeze=False, height_ratios=rows,
                                  layout="constrained",  # room for each panel's size labels
                                  figsize=(width, 1.4 + 0.3 * sum(rows) + 1.0 * (len(grids) - 1)))
    values = np.concatenate([grid.to_numpy(dtype=float).ravel() for _unit, grid in grids])
    finite = np.abs(np.log10(values[np.isfinite(values) & (values > 0)]))
    bound = 10 ** float(np.clip(finite.max() if finite.size else 0.3, 0.3, 4))
    norm = LogNorm(vmin=1 / bound, vmax=bound)
    images = [_heatmap_panel(axes, unit, grid, norm)
              for axes, (unit, grid) in zip(panels[:, 0], grids, strict=True)]  # fmt: skip
    scale = figure.colorbar(images[0], ax=list(panels[:, 0]))  # one scale for every panel
    scale.set_label("ratio: contender / baseline time (> 1: contender slower)")
    scale.ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # one label a tick
    _ratio_ticks(scale.ax.yaxis, 1 / bound, bound)
    panels[0, 0].set_title(f"{describe(contender)} / {describe(baseline)}{_shown(total, most)}")
    return figure


