"""bmru report: PNG figures of a fidelity run file (matplotlib, h5py; Debian packages).

usage: report.py RUN.h5 OUTDIR SEQUENCE
Writes, for the chosen sequence, sequence<S>_cells.png (candidate and state of every cell, hardware
against software, with the thresholds), sequence<S>_logits.png, and agreement.png (state agreement
and candidate NRMSE per cell). For a sweep file (with /summary): sweep.png (state agreement, decision
agreement and mean power of every run against its corner, one series per temperature and supply,
failed runs marked) and the figures above for its run with the lowest state agreement. Every figure
is 1200 x 800 pixels.
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


def cells(f, s, out):
    unit = f["config"].attrs["unit_current"]
    layers = int(f["model"].attrs["n_layers"])
    d = int(f["model"].attrs["d"])
    fig, axes = plt.subplots(2 * layers, d, figsize=SIZE, dpi=DPI, sharex=True, squeeze=False)
    for l in range(1, layers + 1):
        beta_lo = np.abs(f[f"model/layer{l}/beta1"][...])
        beta_hi = beta_lo + np.abs(f[f"model/layer{l}/delta"][...])
        alpha = np.abs(f[f"model/layer{l}/alphas"][...])
        c_sw, c_hw = f[f"sw/layer{l}/candidate"][s], f[f"hw/layer{l}/candidate"][s] / unit
        h_sw, h_hw = f[f"sw/layer{l}/state"][s], f[f"hw/layer{l}/state"][s] / unit
        for i in range(d):
            ax = axes[2 * (l - 1)][i]
            ax.plot(c_sw[:, i], label="sw", lw=1)
            ax.plot(c_hw[:, i], label="hw", lw=1, ls="--")
            ax.axhline(beta_lo[i], color="grey", lw=0.5)
            ax.axhline(beta_hi[i], color="grey", lw=0.5)
            ax.set_title(f"layer {l} cell {i}: candidate", fontsize=8)
            ax = axes[2 * (l - 1) + 1][i]
            ax.step(range(len(h_sw)), h_sw[:, i] / alpha[i], where="mid", label="sw", lw=1)
            ax.step(range(len(h_hw)), h_hw[:, i] / alpha[i], where="mid", label="hw", lw=1, ls="--")
            ax.set_ylim(-0.1, 1.2)
            ax.set_title(f"layer {l} cell {i}: state / alpha", fontsize=8)
    axes[0][0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("frame")
    fig.tight_layout()
    save(fig, out, f"sequence{s}_cells.png")


def logits(f, s, out):
    unit = f["config"].attrs["unit_current"]
    y_sw, y_hw = f["sw/logits"][s], f["hw/logits"][s] / unit
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    for j in range(y_sw.shape[1]):
        ax.plot(y_sw[:, j], label=f"sw class {j}")
        ax.plot(y_hw[:, j], ls="--", label=f"hw class {j}")
    ax.set_xlabel("frame")
    ax.set_ylabel("logit (model units)")
    ax.set_title(f"sequence {s}: decision sw {f['sw/decision'][s]}, hw {f['hw/decision'][s]}")
    ax.legend()
    fig.tight_layout()
    save(fig, out, f"sequence{s}_logits.png")


def agreement(f, out):
    agree = f["metrics/cell_state_agreement"][...]
    nrmse = f["metrics/cell_candidate_nrmse"][...]
    labels = [f"L{l + 1}C{i}" for l in range(agree.shape[0]) for i in range(agree.shape[1])]
    fig, (a, b) = plt.subplots(2, 1, figsize=SIZE, dpi=DPI)
    a.bar(labels, 100 * agree.ravel())
    a.set_ylabel("state agreement (%)")
    a.set_ylim(max(0, 100 * agree.min() - 5), 100.5)
    b.bar(labels, nrmse.ravel())
    b.set_ylabel("candidate NRMSE")
    fig.suptitle(f"state agreement {100 * f['metrics'].attrs['state_agreement']:.3f} %, "
                 f"decision agreement {100 * f['metrics'].attrs['decision_agreement']:.1f} %")
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
                ax.plot(xf, [ax.get_ylim()[0]] * len(xf), "x", color=f"C{n % 10}", ms=8)
    axes[0].set_ylabel("state agreement (%)")
    axes[1].set_ylabel("decision agreement (%)")
    axes[2].set_ylabel("mean power (nW)")
    axes[2].set_xticks(range(len(corners)))
    axes[2].set_xticklabels(corners)
    axes[2].set_xlabel("corner (x: failed run)")
    axes[0].legend(fontsize=7, ncol=max(1, len(series) // 3))
    failed = sum(text(r["status"]) != "ok" for r in rows)
    fig.suptitle(f"{len(rows)} runs, {failed} failed")
    fig.tight_layout()
    save(fig, out, "sweep.png")
    ok = [r for r in rows if text(r["status"]) == "ok" and text(r["id"]) in f.get("runs", {})]
    return text(min(ok, key=lambda r: r["state_agreement"])["id"]) if ok else None


def main(path, out, sequence):
    os.makedirs(out, exist_ok=True)
    with h5py.File(path, "r") as f:
        if "summary" in f:
            worst = sweep(f, out)
            if worst is None:
                return
            f = f["runs"][worst]
            print(f"figures of the run with the lowest state agreement: {worst}")
        if "hw" not in f or "metrics" not in f:
            sys.exit(f"{path}: not a fidelity run file (no /hw or /metrics)")
        if not 0 <= sequence < f["inputs"].shape[0]:
            sys.exit(f"{path}: sequence {sequence} does not exist (the file has {f['inputs'].shape[0]})")
        cells(f, sequence, out)
        logits(f, sequence, out)
        agreement(f, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
