"""bmru report: PNG figures of a fidelity run file (matplotlib, h5py; Debian packages).

usage: report.py RUN.h5 OUTDIR SEQUENCE [WINDOW a:b]
Writes, for the chosen sequence, sequence<S>_cells.png (candidate and state of every cell, hardware
against software, with the labelled thresholds, states as steps, frames where they disagree marked),
sequence<S>_logits.png, and agreement.png (state agreement and candidate NRMSE per cell). For a sweep
file (with /summary): sweep.png (state agreement, decision agreement and mean power of every run
against its corner, one series per temperature and supply, failed runs marked; the power axis is
clipped to the bulk of the runs and outliers are drawn at its edge) and the figures above for its
run with the lowest state agreement. Every title names the technology, corner, temperature and
supply; every axis its unit. Every figure is 1200 x 800 pixels. Errors are one line, exit 1.
For an evaluation file (bmru evaluate, /config kind "evaluate"): evaluate.png (accuracy and balanced
accuracy per engine, energy per inference by block, and each clip's vote margin behavioural against
circuit with the clips where the engines disagree marked) and confusion.png (a confusion matrix per
engine), then the figures above for the chosen sequence of the first chunk run with a disagreement.
For a scaling file (bmru scaling, /config kind "scaling"): scaling.png, power per block against d
on log-log axes (simulated d filled, extrapolated d open), each block's fitted law, and the
paper's claim (cells ~ d, feed-forward ~ d^2) as reference slopes through the first point; and
scaling_positions.png, power by position in the network (pre, each layer, output) against d.
For a noise study (bmru noise-study, /config kind "noise-study"): noise_study.png, for BMRU cells
and the leaky baseline against the noise level: the suppression factor (lower bounds open), the
state error, the decisions' agreement with the noiseless run, and the state error against time at
the highest level. A fidelity run with --noise also gets noise.png: per engine the suppression
factor of every cell boundary (lower bounds open) and the state error against time.
For a training history (the CSV `bmru train` writes beside its model): training.png, loss and
accuracy per epoch for the training and validation parts, the best epoch marked.
"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SIZE, DPI = (12, 8), 100


def save(fig, out, name):
    path = os.path.join(out, name)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path}")


class ReportError(Exception):
    pass


def conditions(f):
    a = f["config"].attrs
    return (f"{text(a.get('pdk', '?'))} {text(a.get('corner', '?'))}, "
            f"{float(a.get('temperature', float('nan'))):g} C, {float(a.get('vdd', float('nan'))):g} V")


def frames_of(f, s, window):
    n = f["inputs"].shape[1]
    a, b = window if window else (0, n)
    b = min(b, n)
    if not 0 <= a < b:
        raise ReportError(f"--window {a}:{b} holds no frame of the {n} in the file")
    return a, b


def compared(f):
    """The engine the behavioural model is compared with, and the scale of its traces to model
    units: the circuit (/hw, in amperes), else the ct model (/ct, a run with --engines sw,ct)."""
    if "hw" in f:
        return "hw", 1 / f["config"].attrs["unit_current"]
    return "ct", 1.0


def cells(f, s, out, window):
    e, scale = compared(f)
    a, b = frames_of(f, s, window)
    x = np.arange(a, b)
    layers = int(f["model"].attrs["n_layers"])
    d = int(f["model"].attrs["d"])
    fig, axes = plt.subplots(2 * layers, d, figsize=SIZE, dpi=DPI, sharex=True, squeeze=False)
    for l in range(1, layers + 1):
        beta_lo = np.abs(f[f"model/layer{l}/beta1"][...])
        beta_hi = beta_lo + np.abs(f[f"model/layer{l}/delta"][...])
        alpha = np.abs(f[f"model/layer{l}/alphas"][...])
        c_sw, c_hw = f[f"sw/layer{l}/candidate"][s, a:b], f[f"{e}/layer{l}/candidate"][s, a:b] * scale
        h_sw, h_hw = f[f"sw/layer{l}/state"][s, a:b], f[f"{e}/layer{l}/state"][s, a:b] * scale
        for i in range(d):
            ax = axes[2 * (l - 1)][i]
            ax.plot(x, c_sw[:, i], label="sw", lw=1)
            ax.plot(x, c_hw[:, i], label=e, lw=1, ls="--")
            ax.axhline(beta_lo[i], color="grey", lw=0.5)
            ax.axhline(beta_hi[i], color="grey", lw=0.5)
            ax.annotate(f"beta_lo {beta_lo[i]:.3g}", (x[0], beta_lo[i]), fontsize=6, color="grey", va="top")
            ax.annotate(f"beta_hi {beta_hi[i]:.3g}", (x[0], beta_hi[i]), fontsize=6, color="grey", va="bottom")
            ax.set_title(f"layer {l} cell {i}: candidate", fontsize=8)
            ax.set_ylabel("model units", fontsize=7)
            ax = axes[2 * (l - 1) + 1][i]
            ax.step(x, h_sw[:, i] / alpha[i], where="mid", label="sw", lw=1)
            ax.step(x, h_hw[:, i] / alpha[i], where="mid", label=e, lw=1, ls="--")
            differ = (h_hw[:, i] > alpha[i] / 2) != (h_sw[:, i] > 0)
            if differ.any():
                ax.plot(x[differ], np.full(differ.sum(), 1.12), "x", color="red", ms=4, label="disagree")
            ax.set_ylim(-0.1, 1.2)
            ax.set_title(f"layer {l} cell {i}: state", fontsize=8)
            ax.set_ylabel("state / alpha", fontsize=7)
    axes[0][0].legend(fontsize=7)
    axes[1][0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("frame")
    fig.suptitle(f"sequence {s}, frames {a}-{b - 1}: {conditions(f)}", fontsize=10)
    fig.tight_layout()
    save(fig, out, f"sequence{s}_cells.png")


def logits(f, s, out, window):
    e, scale = compared(f)
    a, b = frames_of(f, s, window)
    x = np.arange(a, b)
    y_sw, y_hw = f["sw/logits"][s, a:b], f[f"{e}/logits"][s, a:b] * scale
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    for j in range(y_sw.shape[1]):
        ax.plot(x, y_sw[:, j], label=f"sw class {j}")
        ax.plot(x, y_hw[:, j], ls="--", label=f"{e} class {j}")
    ax.set_xlabel("frame")
    ax.set_ylabel("logit (model units)")
    ax.set_title(f"sequence {s}: decision sw {f['sw/decision'][s]}, {e} {f[f'{e}/decision'][s]} "
                 f"({conditions(f)})")
    ax.legend()
    fig.tight_layout()
    save(fig, out, f"sequence{s}_logits.png")


def agreement(f, out):
    agree = f["metrics/cell_state_agreement"][...]
    nrmse = f["metrics/cell_candidate_nrmse"][...]
    labels = [f"L{l + 1}C{i}" for l in range(agree.shape[0]) for i in range(agree.shape[1])]
    fig, (a, b) = plt.subplots(2, 1, figsize=SIZE, dpi=DPI)
    bars = a.bar(labels, 100 * agree.ravel())
    a.bar_label(bars, labels=[f"{100 * v:.1f}" for v in agree.ravel()], fontsize=7)
    a.set_ylabel("state agreement (%)")
    a.set_ylim(0, 105)  # from 0: a bar's height is the agreement, not a difference
    b.bar(labels, nrmse.ravel())
    b.set_ylabel("candidate NRMSE (of beta_hi)")
    b.set_xlabel("layer and cell")
    fig.suptitle(f"state agreement {100 * f['metrics'].attrs['state_agreement']:.3f} %, "
                 f"decision agreement {100 * f['metrics'].attrs['decision_agreement']:.1f} % ({conditions(f)})")
    fig.tight_layout()
    save(fig, out, "agreement.png")


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def sweep(f, out):
    rows = f["summary"][...]
    corners = []
    for r in rows:
        if text(r["corner"]) not in corners:
            corners.append(text(r["corner"]))
    series = sorted({(float(r["temperature"]), float(r["vdd"])) for r in rows})
    fig, axes = plt.subplots(3, 1, figsize=SIZE, dpi=DPI, sharex=True)
    width = 0.6 / max(1, len(series))
    for n, (t, v) in enumerate(series):
        for key, ax, scale in (("state_agreement", axes[0], 100), ("decision_agreement", axes[1], 100),
                               ("mean_power_w", axes[2], 1e9)):
            xs, ys, xf = [], [], []
            for r in rows:
                if (float(r["temperature"]), float(r["vdd"])) != (t, v):
                    continue
                x = corners.index(text(r["corner"])) - 0.3 + (n + 0.5) * width
                if text(r["status"]) == "ok":
                    xs.append(x)
                    ys.append(scale * float(r[key]))
                else:
                    xf.append(x)
            ax.plot(xs, ys, "o", ms=4, label=f"{t:g} C, {v:g} V", color=f"C{n % 10}")
            if xf:
                ax.plot(xf, [0] * len(xf), "x", color=f"C{n % 10}", ms=8)
    for ax in axes[:2]:
        ax.set_ylim(0, 105)  # agreement from 0
    # Power: the bulk of the runs sets the axis (a run at a hot corner can draw 100x more); the
    # runs beyond are drawn at its edge as triangles with their value.
    power = np.array([1e9 * float(r["mean_power_w"]) for r in rows if text(r["status"]) == "ok"])
    power = power[np.isfinite(power)]
    if power.size:
        lo, hi = np.percentile(power, 5), np.percentile(power, 95)
        pad = max(0.1 * (hi - lo), 0.05 * abs(hi), 1e-3)
        lo, hi = max(0.0, lo - pad), hi + pad
        axes[2].set_ylim(lo, hi)
        for line in list(axes[2].get_lines()):
            for xv, yv in zip(line.get_xdata(), line.get_ydata()):
                if yv > hi or yv < lo:
                    edge = hi if yv > hi else lo
                    axes[2].plot([xv], [edge], "^" if yv > hi else "v", color=line.get_color(), ms=7)
                    axes[2].annotate(f"{yv:.3g}", (xv, edge), fontsize=6, va="top" if yv > hi else "bottom")
    axes[0].set_ylabel("state agreement (%)")
    axes[1].set_ylabel("decision agreement (%)")
    axes[2].set_ylabel("mean power (nW)")
    axes[2].set_xticks(range(len(corners)))
    axes[2].set_xticklabels(corners)
    axes[2].set_xlabel("corner (x: failed run)")
    axes[0].legend(fontsize=7, ncol=max(1, len(series) // 3))
    failed = sum(text(r["status"]) != "ok" for r in rows)
    fig.suptitle(f"{len(rows)} runs, {failed} failed ({text(f['config'].attrs.get('pdk', '?'))}; "
                 f"corners {text(f['config'].attrs.get('corners', '?'))}, "
                 f"temperatures {text(f['config'].attrs.get('temperatures', '?'))} C, "
                 f"supplies {text(f['config'].attrs.get('vdds', '?'))} V)")
    fig.tight_layout()
    save(fig, out, "sweep.png")
    if "hw_accuracy" in rows.dtype.names and np.isfinite(rows["sw_accuracy"]).any():
        accuracy(rows, corners, series, f, out)
    ok = [r for r in rows if text(r["status"]) == "ok" and text(r["id"]) in f.get("runs", {})]
    return text(min(ok, key=lambda r: r["state_agreement"])["id"]) if ok else None


def evaluation(f, out):
    m = f["metrics"].attrs
    clips = f["clips"][...]
    engines = [e for e in ("sw", "ct", "hw") if np.isfinite(float(m.get(f"{e}_accuracy", np.nan)))]
    ok = np.array([text(c) == "ok" for c in clips["status"]])
    cfg = f["config"].attrs
    fig, (a, b, c) = plt.subplots(1, 3, figsize=SIZE, dpi=DPI)
    xs = np.arange(len(engines))
    a.bar(xs - 0.2, [100 * float(m[f"{e}_accuracy"]) for e in engines], 0.4, label="accuracy")
    a.bar(xs + 0.2, [100 * float(m[f"{e}_balanced_accuracy"]) for e in engines], 0.4,
          label="balanced accuracy")
    a.set_xticks(xs)
    a.set_xticklabels(engines)
    a.set_ylim(0, 105)
    a.set_ylabel("accuracy (%)")
    a.set_title(f"decision agreement {100 * float(m['decision_agreement']):.1f} %")
    a.legend(fontsize=8)
    blocks = ["cells", "feedforward", "bias"]
    energy = [1e9 * float(m.get(f"energy_{k}_j", np.nan)) for k in blocks]
    b.bar(blocks, energy)
    b.set_ylabel("energy per inference (nJ)")
    b.set_title(f"total {1e9 * float(m.get('energy_per_inference_j', np.nan)):.3g} nJ per "
                f"{float(m.get('clip_duration_s', np.nan)):g} s clip")
    other = "hw" if "hw" in engines else "ct"
    if other in engines:
        sw_m = np.where(clips["sw_decision"] == 1, 1, -1) * clips["sw_margin"]
        hw_m = np.where(clips[f"{other}_decision"] == 1, 1, -1) * clips[f"{other}_margin"]
        differ = ok & (clips["sw_decision"] != clips[f"{other}_decision"])
        c.plot(sw_m[ok & ~differ], hw_m[ok & ~differ], "o", ms=4, label="same decision")
        c.plot(sw_m[differ], hw_m[differ], "x", color="C3", ms=8, label="engines disagree")
        c.axhline(0, color="grey", lw=0.5)
        c.axvline(0, color="grey", lw=0.5)
        c.set_xlabel("sw vote margin (signed: + for class 1)")
        c.set_ylabel(f"{other} vote margin (signed)")
        c.legend(fontsize=8)
    fig.suptitle(f"{len(clips)} clips of {text(cfg.get('scheme', '?'))}/{text(cfg.get('part', '?'))}, "
                 f"decision {text(cfg.get('decision', '?'))}, {int((~ok).sum())} failed ({conditions(f)})")
    fig.tight_layout()
    save(fig, out, "evaluate.png")
    classes = text(cfg.get("classes", "")).split(",")
    fig, axes = plt.subplots(1, len(engines), figsize=SIZE, dpi=DPI, squeeze=False)
    for ax, e in zip(axes[0], engines):
        cm = f[f"metrics/confusion_{e}"][...]
        ax.imshow(cm, cmap="Blues")
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(classes)))
        ax.set_xticklabels(classes, rotation=90, fontsize=7)
        ax.set_yticks(range(len(classes)))
        ax.set_yticklabels(classes, fontsize=7)
        ax.set_xlabel("decided class (clips)")
        ax.set_ylabel("true class")
        ax.set_title(f"{e}: {100 * float(m[f'{e}_accuracy']):.1f} %")
    fig.tight_layout()
    save(fig, out, "confusion.png")
    differ = [c for c in clips if text(c["status"]) == "ok" and any(
        c["sw_decision"] != c[f"{e}_decision"] for e in engines if e != "sw")]
    pick = differ[0] if differ else (clips[0] if len(clips) else None)
    if pick is None or text(pick["run"]) not in f.get("runs", {}):
        return None
    return text(pick["run"]), int(pick["sequence"])


def accuracy(rows, corners, series, f, out):
    """A --data sweep: each die's accuracy per corner, its spread, against the behavioural one."""
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    width = 0.6 / max(1, len(series))
    for n, (t, v) in enumerate(series):
        for ci, corner in enumerate(corners):
            pick = [r for r in rows if text(r["corner"]) == corner and text(r["status"]) == "ok"
                    and (float(r["temperature"]), float(r["vdd"])) == (t, v)]
            if not pick:
                continue
            x = ci - 0.3 + (n + 0.5) * width
            for key, marker in (("hw_accuracy", "o"), ("ct_accuracy", "s")):
                acc = np.array([100 * float(r[key]) for r in pick])
                acc = acc[np.isfinite(acc)]
                if not acc.size:
                    continue
                ax.plot([x] * acc.size, acc, marker, ms=4, alpha=0.5, color=f"C{n % 10}",
                        label=f"{key[:2]} {t:g} C, {v:g} V" if ci == 0 else None)
                if key == "hw_accuracy" and acc.size > 1:
                    ax.errorbar([x + 0.04], [acc.mean()], yerr=[acc.std(ddof=1)], fmt="_", ms=12,
                                color="k", capsize=3)
                    ax.annotate(f"mean {acc.mean():.1f}, p5 {np.percentile(acc, 5):.1f}",
                                (x + 0.05, acc.mean()), fontsize=7)
            sw = np.nanmean([100 * float(r["sw_accuracy"]) for r in pick])
            ax.plot([x - 0.1, x + 0.1], [sw, sw], "-", color="grey", lw=2,
                    label="behavioural (sw)" if (n, ci) == (0, 0) else None)
    ax.set_xticks(range(len(corners)))
    ax.set_xticklabels(corners)
    ax.set_xlabel("corner")
    ax.set_ylabel("accuracy over the clips (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7)
    ax.set_title(f"task accuracy per die (Monte Carlo), mean +- sd; "
                 f"{text(f['config'].attrs.get('pdk', '?'))}")
    fig.tight_layout()
    save(fig, out, "accuracy.png")


def training(path, out):
    try:
        h = np.genfromtxt(path, delimiter=",", names=True)
    except (OSError, ValueError) as e:
        raise ReportError(f"not a training history CSV ({e})")
    need = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy")
    if h.dtype.names is None or any(n not in h.dtype.names for n in need):
        raise ReportError("not a training history CSV (columns: " + ", ".join(need) + ")")
    h = np.atleast_1d(h)
    best = int(h["epoch"][np.argmin(h["val_loss"])])
    fig, (a, b) = plt.subplots(2, 1, figsize=SIZE, sharex=True)
    a.plot(h["epoch"], h["train_loss"], label="train")
    a.plot(h["epoch"], h["val_loss"], label="validation")
    a.set_ylabel("cross-entropy (per frame)")
    b.plot(h["epoch"], 100 * h["train_accuracy"], label="train (with dropout)")
    b.plot(h["epoch"], 100 * h["val_accuracy"], label="validation")
    b.set_ylabel("accuracy (%)")
    b.set_xlabel("epoch")
    for ax in (a, b):
        ax.axvline(best, color="grey", linestyle=":", label=f"best epoch {best}")
        ax.legend()
        ax.grid(alpha=0.3)
    a.set_title(f"training history: {os.path.basename(path)}")
    fig.tight_layout()
    save(fig, out, "training.png")


def scaling(f, out):
    p = f["points"][...]
    fit = f["fit"][...]
    laws = {r["block"].decode(): r for r in fit}
    d = p["d"].astype(float)
    measured = p["measured"] == 1
    fig, ax = plt.subplots(figsize=SIZE)
    colours = {"cells": "tab:blue", "feedforward": "tab:orange", "bias": "tab:green", "total": "black"}
    dd = np.geomspace(d.min(), d.max(), 50)
    for block, c in colours.items():
        y = p[f"power_{block}_w"]
        ax.loglog(d[measured], y[measured], "o", color=c, label=f"{block} (SPICE)")
        if (~measured).any():
            ax.loglog(d[~measured], y[~measured], "o", mfc="none", color=c, label=f"{block} (extrapolated)")
        law = laws.get(block)
        if law is not None and np.isfinite(law["exponent"]):
            lo, hi = law["ci_low"], law["ci_high"]
            ci = f" [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else ""
            ax.loglog(dd, law["prefactor"] * dd ** law["exponent"], "-", color=c, alpha=0.6,
                      label=f"{block} fit d^{law['exponent']:.2f}{ci}")
    first = np.argmin(d)
    for k, style, block in ((1, ":", "cells"), (2, "--", "feedforward")):
        y0 = p[f"power_{block}_w"][first]
        ax.loglog(dd, y0 * (dd / d[first]) ** k, style, color="grey", label=f"claim: {block} ~ d^{k}")
    ax.set_xlabel("state dimension d")
    ax.set_ylabel("mean power (W)")
    cfg = f["config"].attrs
    ax.set_title(f"Power against d, family {text(cfg.get('family', '?'))}, {conditions(f)}")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    save(fig, out, "scaling.png")
    positions = [n[len("power_"):-len("_w")] for n in p.dtype.names
                 if n.startswith("power_") and n.endswith("_w")
                 and n[len("power_"):-len("_w")] not in colours]
    if positions and measured.any():
        fig, ax = plt.subplots(figsize=SIZE)
        for pos in positions:
            ax.loglog(d[measured], p[f"power_{pos}_w"][measured], "o-", label=pos)
        ax.set_xlabel("state dimension d")
        ax.set_ylabel("mean power (W)")
        ax.set_title(f"Power by position in the network (SPICE), {conditions(f)}")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        save(fig, out, "scaling_positions.png")


def noise_study(f, out):
    t = f["levels"][...]
    err = f["error_vs_frame"][...]
    levels = [x.decode() for x in t["level"]]
    cells = [x.decode() for x in t["cell"]]
    order = list(dict.fromkeys(levels))
    fig, ax = plt.subplots(2, 2, figsize=SIZE)
    for cell, c in (("bmru", "tab:blue"), ("leaky", "tab:orange")):
        rows = [i for i, x in enumerate(cells) if x == cell]
        xs = [order.index(levels[i]) for i in rows]
        fac = t["suppression_factor"][rows]
        bound = t["suppression_is_bound"][rows] == 1
        xs_a = np.array(xs)
        ax[0, 0].plot(xs_a[~bound], fac[~bound], "o-", color=c, label=cell)
        ax[0, 0].plot(xs_a[bound], fac[bound], "o", mfc="none", color=c, label=f"{cell} (lower bound)")
        ax[0, 1].plot(xs, t["state_error"][rows], "o-", color=c, label=cell)
        ax[1, 0].plot(xs, 100 * t["decision_agreement"][rows], "o-", color=c, label=cell)
        ax[1, 1].plot(err[rows[-1]], color=c, label=f"{cell} at {levels[rows[-1]]}")
    ax[0, 0].axhline(20, color="grey", ls="--", label="paper: 20x")
    ax[0, 0].set_yscale("log")
    ax[0, 0].set_ylabel("suppression factor (median over cells)")
    ax[0, 1].set_ylabel("state error (mean |dh| / alpha)")
    ax[1, 0].set_ylabel("decision agreement with noiseless (%)")
    for a in (ax[0, 0], ax[0, 1], ax[1, 0]):
        a.set_xticks(range(len(order)))
        a.set_xticklabels(order)
        a.set_xlabel("noise level (relative sigma at the candidates)")
        a.legend(fontsize=8)
        a.grid(True, alpha=0.3)
    ax[1, 1].set_xlabel("frame")
    ax[1, 1].set_ylabel("state error (mean |dh| / alpha)")
    ax[1, 1].legend(fontsize=8)
    ax[1, 1].grid(True, alpha=0.3)
    fig.suptitle(f"BMRU against a leaky baseline under noise (behavioural model, "
                 f"leak {float(f['config'].attrs.get('leak', float('nan'))):g})")
    fig.tight_layout()
    save(fig, out, "noise_study.png")


def noise_run(f, out):
    g = f["metrics/noise"]
    engines = [e for e in ("sw", "ct", "hw") if e in g]
    fig, ax = plt.subplots(1, 2, figsize=SIZE)
    width = 0.8 / max(1, len(engines))
    for j, e in enumerate(engines):
        fac = g[e]["suppression_factor"][...].ravel()
        bound = g[e]["suppression_is_bound"][...].ravel() == 1
        x = np.arange(fac.size) + j * width
        ax[0].bar(x[~bound], fac[~bound], width, label=e)
        ax[0].bar(x[bound], fac[bound], width, fill=False, hatch="//", label=f"{e} (lower bound)")
        ax[1].plot(g[e]["state_error_vs_frame"][...], label=e)
    ax[0].axhline(20, color="grey", ls="--", label="paper: 20x")
    ax[0].set_yscale("log")
    ax[0].set_xlabel("cell boundary (layer-major)")
    ax[0].set_ylabel("suppression factor")
    ax[0].legend(fontsize=8)
    ax[1].set_xlabel("frame")
    ax[1].set_ylabel("state error (mean |dh| / alpha)")
    ax[1].legend()
    fig.suptitle(f"Noise {text(f['config'].attrs.get('noise', '?'))} at the candidates, {conditions(f)}")
    fig.tight_layout()
    save(fig, out, "noise.png")


def main(path, out, sequence, window):
    os.makedirs(out, exist_ok=True)
    if path.endswith(".csv"):
        training(path, out)
        return
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise ReportError("not an HDF5 file (or unreadable)")
    with f:
        if "config" in f and text(f["config"].attrs.get("kind", "")) == "scaling":
            scaling(f, out)
            return
        if "config" in f and text(f["config"].attrs.get("kind", "")) == "noise-study":
            noise_study(f, out)
            return
        if "summary" in f:
            worst = sweep(f, out)
            if worst is None:
                return
            f = f["runs"][worst]
            print(f"figures of the run with the lowest state agreement: {worst}")
        if "config" in f and text(f["config"].attrs.get("kind", "")) == "evaluate":
            picked = evaluation(f, out)
            if picked is None:
                return
            run, sequence = picked
            f = f["runs"][run]
            print(f"figures of clip {sequence} of run {run}")
        if ("hw" not in f and "ct" not in f) or "metrics" not in f or "config" not in f:
            raise ReportError("not a fidelity, validate or sweep run file (no /hw or /ct, /metrics or /config)")
        if not 0 <= sequence < f["inputs"].shape[0]:
            raise ReportError(f"sequence {sequence} does not exist (the file has {f['inputs'].shape[0]})")
        cells(f, sequence, out, window)
        logits(f, sequence, out, window)
        agreement(f, out)
        if "metrics/noise" in f:
            noise_run(f, out)


def parse_window(w):
    if not w:
        return None
    try:
        a, b = w.split(":")
        return int(a or 0), int(b) if b else 1 << 62
    except ValueError:
        raise ReportError(f"--window '{w}' is not a:b (first frame, one past the last)")


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), parse_window(sys.argv[4] if len(sys.argv) > 4 else ""))
    except ReportError as e:
        print(f"bmru report: {sys.argv[1]}: {e}", file=sys.stderr)
        sys.exit(1)
    except PermissionError as e:
        print(f"bmru report: cannot write the figures: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # a file of the right kind but an unexpected shape: one line, not a trace
        print(f"bmru report: {sys.argv[1]}: cannot be drawn ({type(e).__name__}: {e})", file=sys.stderr)
        sys.exit(1)
