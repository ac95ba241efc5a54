"""How many users can one cell and an edge server serve, per codec, and which resource binds?

    python examples/cell_capacity.py            # the full answer (about 10 minutes on 2 CPU cores)
    python examples/cell_capacity.py --quick    # a quick look: fewer users, 1 s, one GPU count
    python examples/cell_capacity.py --part quality [--floor-db 28]   # question 3 (real decoding)
    python examples/cell_capacity.py --part uplink --rx-antennas 8 --mu-mimo-ues 4   # question 4 (cameras up)
    python examples/cell_capacity.py --bs-tx-antennas 8  # every question with 8 beamforming sector elements
    python examples/cell_capacity.py --bs-tx-antennas 8 --mu-mimo-ues 4  # ... serving up to 4 UEs per PRB group
    python examples/cell_capacity.py --bs-tx-antennas 8 --interferer-beams grid  # ... the other sectors' beams flash
    python examples/cell_capacity.py --bs-tx-antennas 32 --bs-rows 2 --bs-polarization dual --mu-mimo-ues 8
        # a 2 x 8 x 2 panel of 32 ports, up to 8 UEs per PRB group

One UMi sector at 3.5 GHz (Sionna TR 38.901 system-level channel, interference from the other 20
sectors of a one-ring layout), downlink, scheduled in the run by queue-aware PF. Two questions:

1. The 3GPP XR case: DL VR / cloud gaming at 30 Mbit/s and 60 fps (TR 38.838's rate, codec
   ``xr``), 100 MHz at 30 kHz, packet delay budget 10 ms. Its radio capacity is the TR 38.838
   number (99 % of frames within the PDB for 90 % of users). Measured on a 2-core CPU (2 s, 2
   seeds): 1 user by the 3GPP rule (a second UE at the cell edge misses the 10 ms budget with the
   carrier only 20-40 % busy: coverage, not load, binds this one-antenna sector), 4 for the viewer;
   with ``--bs-tx-antennas 8`` (ideal-CSI beamforming, one layer) 4 by the 3GPP rule and at least 8
   (the grid's largest) for the viewer, and H.264 in question 2 goes from 4 to at least 32 users;
   with ``--mu-mimo-ues 4`` as well (up to 4 zero-forced UEs per PRB group) 6 by the 3GPP rule and
   at least 16 (the grid's largest then) for the viewer; at 8, 12 and 16 users 63, 63 and 47 % of
   them meet the 10 ms budget (8 elements without MU-MIMO: 31 % at 8), sharing PRBs more as users
   are added (1.7, 2.0 and 2.6 UEs per used PRB; the carrier 78, 95 and 98 % busy); with
   ``--interferer-beams grid`` too (the other sectors' beams flash, four at a quarter power each) the
   capacities are the same and 58 and 38 % meet the budget at 12 and 16 users. With a massive-MIMO
   panel, ``--bs-tx-antennas 32 --bs-rows 2 --bs-polarization dual --mu-mimo-ues 8`` (2 rows of 8
   cross-polarised pairs, up to 8 UEs per PRB group; 26 min on 2 cores): 24 users by the 3GPP rule and
   at least 32 (the grid's largest then) for the viewer; 97, 92 and 58 % meet the budget at 16, 24 and
   32 users, at 1.9, 2.6 and 3.8 UEs per used PRB (the carrier 85, 96 and 99 % busy).
   RAN1's set-ups (massive-MIMO gNBs, MU-MIMO) carry several times more; their per-company
   ranges are in TR 38.838's tables, which are not quoted here, so this figure is not offered as
   comparable to them.
2. Semantic codecs against H.264 on 5 MHz (15 kHz) with a 30 ms budget: ``h264`` (1.5 Mbit/s
   asked; what a 64 px frame takes, about 0.2 Mbit/s), ``cvsc`` and ``content_motion`` (both
   ``control="adaptive"``; ``cvsc-fixed``: cvsc with the controller off) at 10 fps, decoded by an edge
   server of K GPUs, each decode timed as the published SD-1.5 RTX 4090 profile gives it at
   512 px (``receiver.timed_as_px``) while the encoders really run on 64 px frames (the bytes
   on the air are theirs, at 64 px). The decode is timing-only (the question here is delay and
   users, not pixels), so the viewer is judged on time alone.

3. ``--part quality``: question 2 for H.264 and adaptive cvsc with real decoding (the shipped
   model on the 64 px frames, timed as above) and a quality floor: a viewer is satisfied only if
   99 % of frames are shown on time *and* the stream's mean PSNR is at least ``--floor-db``
   (``capacity.min_psnr_db``). As users are added, adaptive cvsc buys time with fewer denoising
   steps; the capacity says whether the floor or the clock gives out first. Each stream has only
   10 frames per second of video: one frame lost over the air already fails the 99 % rule, so
   give ``--seconds`` enough for the rule to mean something (the default 2 s is a first look).
4. ``--part uplink``: question 2's H.264 and adaptive cvsc the other way, cameras sending up the 5 MHz
   carrier (UEs at their open-loop power, the other sectors' UEs interfering) to the edge server, the
   sector receiving on ``--rx-antennas`` elements (a panel with ``--bs-rows``/``--bs-polarization``) with
   up to ``--mu-mimo-ues`` cameras per PRB group (uplink MU-MIMO, a zero-forcing receiver).
   Measured (2 s, 2 seeds; 1.5 / 1.6 / 3.0 min on 2 cores): at 32 cameras, H.264's share meeting the 30 ms
   budget goes from 0.00 with 4 elements to 0.86 with 8 elements and MU 4, and to 0.92 with a 2 x 8 x 2
   panel of 32 and MU 8 (air delay p99 1993 -> 1070 -> 71 ms, up to 1.3 cameras per used PRB); adaptive
   cvsc, at a tenth of the rate, meets it for 92-95 % of 32 cameras in all three. The 3GPP-rule capacity
   stays at 0-2 users, because in some drops one cell-edge camera misses the budget at any load: on this
   uplink coverage binds, not load. The viewer side (shown on time) holds for cvsc at 32.

Prints, per codec and GPU count, the capacity of both kinds (radio: 3GPP's rule; viewer: shown
on time), the satisfied fraction on each side of it, and what binds; writes the sweep stores, a
satisfied-users plot per question and the XR sweep's HTML report.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import gsvc
from gsvc.analysis import aggregate, capacity, satisfied_users, write_report

CELL = dict(scheduler="pf", interference="full-buffer", traffic="queue")
#: one BS antenna (``cell.bs_tx_antennas`` beamforms with more) and 4 UE receive antennas (MRC), one layer:
#: fewer than RAN1's XR set-ups (massive-MIMO gNBs, MU-MIMO), so the capacities here sit below theirs
CHANNEL = dict(model="umi", carrier_ghz=3.5, speed_kmh=3, num_rx_ant=4)


def xr_scenario(seconds: float) -> gsvc.Scenario:
    return gsvc.Scenario(
        name="xr-vr-dl", seed=5, codec=dict(name="xr", bitrate_kbps=30_000), video=dict(seconds=seconds, resolution=64),
        channel=CHANNEL, link=dict(bandwidth_mhz=100, scs_khz=30, trace_s=seconds), cell={**CELL, "pdb_ms": 10},
        receiver=dict(latency="profile:sd15-rtx4090", decode="timing-only", gpus=8))


def semantic_scenario(seconds: float, codec: dict, floor_db: float | None = None) -> gsvc.Scenario:
    """64 px frames (the encoders' real bytes), each decode timed as SD-1.5 takes at 512 px on an RTX 4090;
    with ``floor_db`` decoded for real and judged on quality too."""
    quality = {} if floor_db is None else dict(receiver=dict(latency="profile:sd15-rtx4090", timed_as_px=512,
                                                             decode="real", gpus=1),
                                               capacity=dict(min_psnr_db=floor_db))
    return gsvc.Scenario(**{**dict(
        name="semantic-cell", seed=5, codec=codec, video=dict(seconds=seconds, fps=10, resolution=64, motion_px=2),
        channel=CHANNEL, link=dict(bandwidth_mhz=5, scs_khz=15, trace_s=seconds), cell={**CELL, "pdb_ms": 30},
        jitter=dict(mode="fixed", delay_ms=200),
        receiver=dict(latency="profile:sd15-rtx4090", timed_as_px=512, decode="timing-only", gpus=1)), **quality})


#: the codecs of question 2, each as its users would run it
CODECS = {"h264": dict(name="h264", bitrate_kbps=1500),
          "cvsc": dict(name="cvsc", steps=4, control="adaptive"),
          "cvsc-fixed": dict(name="cvsc", steps=4, control="off"),
          "content_motion": dict(name="content_motion", steps=4, control="adaptive")}


def _show(summary: pd.DataFrame, keys: list[str], out: Path, name: str, by: list[str]) -> None:
    agg = aggregate(summary, keys, ["radio_satisfied_fraction", "viewer_satisfied_fraction"])
    print(f"satisfied users: {satisfied_users(agg, out / f'{name}.png', by=by or None)}")
    table = capacity(summary, keys=keys)
    cols = [c for c in table.columns if c not in ("ci_low_above", "ci_high_above")]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))


def _bs(sc: gsvc.Scenario, args, uplink: bool = False) -> gsvc.Scenario:
    """``sc`` with ``--bs-tx-antennas`` sector elements in ``--bs-rows`` rows of ``--bs-polarization``,
    ``--mu-mimo-ues`` UEs per PRB group and the other sectors' ``--interferer-beams``; ``uplink``: the cameras
    send, into ``--rx-antennas`` sector elements shaped by the same panel flags."""
    fields = (("cell.mu_mimo_ues", args.mu_mimo_ues), ("cell.bs_rows", args.bs_rows),
              ("cell.bs_polarization", args.bs_polarization))
    fields += ((("link.direction", "uplink"), ("channel.num_rx_ant", args.rx_antennas)) if uplink else
               (("cell.bs_tx_antennas", args.bs_tx_antennas), ("cell.interferer_beams", args.interferer_beams)))
    changes = {k: v for k, v in fields if v not in (1, "isotropic", "single")}
    return sc.updated(changes) if changes else sc


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gsvc-out/cell-capacity", help="result stores and figures")
    ap.add_argument("--quick", action="store_true", help="fewer users, 1 s, one seed, one GPU count")
    ap.add_argument("--executor", choices=["local", "dask", "serial"], default="local")
    ap.add_argument("--part", choices=["time", "quality", "uplink"], default="time",
                    help="questions 1 and 2 (timing-only), question 3 (real decoding, a quality floor) or question "
                         "4 (cameras sending up to the edge server)")
    ap.add_argument("--rx-antennas", type=int, default=4,
                    help="question 4: the sector's receive elements (channel.num_rx_ant, up to 64; --bs-rows and "
                         "--bs-polarization shape them)")
    ap.add_argument("--floor-db", type=float, default=28.0, help="question 3's floor on a stream's mean PSNR, dB")
    ap.add_argument("--seconds", type=float, default=None, help="video seconds per run (default 2, --quick 1)")
    ap.add_argument("--bs-tx-antennas", type=int, default=1,
                    help="the sector's transmit elements (cell.bs_tx_antennas: one layer beamformed to each UE)")
    ap.add_argument("--mu-mimo-ues", type=int, default=1,
                    help="most UEs a PRB group carries at once (cell.mu_mimo_ues: zero-forcing MU-MIMO; needs "
                         "--bs-tx-antennas at least as many); question 1 then also tries 12 and 16 users (and 24 "
                         "and 32 above 4)")
    ap.add_argument("--bs-rows", type=int, default=1,
                    help="rows of the sector's panel (cell.bs_rows; --bs-tx-antennas counts every element)")
    ap.add_argument("--bs-polarization", choices=["single", "dual"], default="single",
                    help="one element per panel position, or a cross-polarised pair (cell.bs_polarization)")
    ap.add_argument("--interferer-beams", choices=["isotropic", "grid"], default="isotropic",
                    help="how the other beamforming sectors point (cell.interferer_beams; with --bs-tx-antennas)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seconds, seeds = (1.0, 1) if args.quick else (2.0, 2)
    seconds = args.seconds or seconds
    if args.part == "quality":
        quality_floor(args, out, seconds)
        return
    if args.part == "uplink":
        uplink_cameras(args, out, seconds, seeds)
        return

    print("## 1. XR, DL VR 30 Mbit/s at 60 fps, 100 MHz, PDB 10 ms (TR 38.838)")
    users = [1, 2] if args.quick else [1, 2, 3, 4, 6, 8] + ([12, 16] if args.mu_mimo_ues > 1 else []) + \
        ([24, 32] if args.mu_mimo_ues > 4 else [])
    res = gsvc.sweep(_bs(xr_scenario(seconds), args), {"streams": users}, seeds=seeds, executor=args.executor,
                     out=out / "xr", progress=False)
    _show(res.summary, ["streams"], out, "xr", by=[])
    print(f"report: {write_report(res, out / 'xr.html')}")

    print("\n## 2. H.264, cvsc and content_motion on 5 MHz, PDB 30 ms, K GPUs (SD-1.5 at 512 px, RTX 4090)")
    users = [2, 6] if args.quick else [2, 4, 8, 16, 24, 32]
    grid = {"streams": users, "receiver.gpus": [1] if args.quick else [1, 4]}
    codecs = ["h264", "cvsc"] if args.quick else list(CODECS)
    parts = []
    for label in codecs:
        res = gsvc.sweep(_bs(semantic_scenario(seconds, CODECS[label]), args), grid, seeds=1 if args.quick else seeds,
                         executor=args.executor, out=out / label, progress=False)
        parts.append(res.summary.assign(codec=label))
    _show(pd.concat(parts, ignore_index=True), ["codec", "streams", "receiver.gpus"], out, "semantic",
          by=["codec", "receiver.gpus"])

def quality_floor(args, out: Path, seconds: float) -> None:
    """Question 3 (module docstring)."""
    print(f"## 3. H.264 and adaptive cvsc on 5 MHz, 1 GPU, real decoding, viewer floor {args.floor_db:g} dB mean PSNR")
    users = [1, 4] if args.quick else [1, 2, 4, 8, 16]
    parts = []
    for label in ("h264", "cvsc"):
        sc = _bs(semantic_scenario(seconds, CODECS[label], args.floor_db), args)
        res = gsvc.sweep(sc, {"streams": users}, seeds=1,
                         executor=args.executor, out=out / f"{label}-quality", progress=False)
        parts.append(res.summary.assign(codec=label))
    summary = pd.concat(parts, ignore_index=True)
    cols = ["codec", "streams", "psnr_db_mean", "unet_evals_per_frame", "deadline_miss_rate",
            "radio_satisfied_fraction", "viewer_satisfied_fraction", "binding"]
    print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    _show(summary, ["codec", "streams"], out, "quality", by=["codec"])


def uplink_cameras(args, out: Path, seconds: float, seeds: int) -> None:
    """Question 4 (module docstring)."""
    mu = f", up to {args.mu_mimo_ues} per PRB group" if args.mu_mimo_ues > 1 else ""
    print(f"## 4. Cameras up a 5 MHz uplink into {args.rx_antennas} sector elements{mu}: H.264 and adaptive cvsc, "
          f"PDB 30 ms, 1 GPU (SD-1.5 at 512 px, RTX 4090)")
    users = [2, 6] if args.quick else [2, 4, 8, 16, 24, 32]
    parts = []
    for label in ("h264", "cvsc"):
        res = gsvc.sweep(_bs(semantic_scenario(seconds, CODECS[label]), args, uplink=True), {"streams": users},
                         seeds=seeds, executor=args.executor, out=out / f"{label}-uplink", progress=False)
        parts.append(res.summary.assign(codec=label))
    summary = pd.concat(parts, ignore_index=True)
    cols = ["air_delay_ms_p99", "ues_per_prb_mean", "prb_utilization", "radio_satisfied_fraction",
            "viewer_satisfied_fraction"]
    print(summary.groupby(["codec", "streams"])[cols].mean().to_string(float_format=lambda v: f"{v:.2f}"))
    _show(summary, ["codec", "streams"], out, "uplink", by=["codec"])


if __name__ == "__main__":
    main()
