"""Multi-user MIMO of a sector: which UEs share a PRB group, and at what SINR (downlink and uplink).

A sector of ``T`` transmit elements (``cell.bs_tx_antennas``) can send up to ``cell.mu_mimo_ues`` UEs on
the same PRB group at once, one layer each, separated by zero-forcing precoding. Each UE combines its
``R`` receive antennas toward its strongest direction (the dominant left singular vector ``u`` of its
``R x T`` channel ``H``), so the sector sees one row per UE, its effective channel ``h = u^H H``
(``1 x T``); for ``K`` co-scheduled rows stacked in ``Hk`` (``K x T``) the precoder is
``W = Hk^H (Hk Hk^H)^-1`` with every column scaled to unit norm, and the sector's power is split equally
over the ``K`` layers. UE ``k``'s SINR on the group is

    (S / K) |h_k w_k|^2 / (D_k + (S / K) sum_{j != k} |h_k w_j|^2)

with ``S`` the sector's SNR scale (power per PRB over noise, for a unit channel gain) and ``D_k`` its
noise plus the other sectors' interference (``1 +`` interference over noise). The precoder is computed
from the channel the sector knows (``cell.csi_delay_ms`` old, :class:`~.cell.CellChannel` slots earlier);
with ideal knowledge the sum is zero and each UE keeps ``1 / [(Hk Hk^H)^-1]_kk`` of its channel's gain
(its part orthogonal to the others) at ``1 / K`` of the power; with older knowledge the layers leak into
each other.

Pairing (:func:`pair_groups`), slot by slot in the traffic-aware cell: the single-user allocation
(:func:`~.scheduler.allocate_slot`) gives every group its owner; then, for every group at once, the UE
that raises the group's summed scheduling metric most (the rule's ``priority`` of each member's
achievable rate at its estimated MU SINR, so PF pairs by the sum of rate over average rate) joins it, up
to ``cell.mu_mimo_ues`` members, while the sum grows. A joining UE must have a new transport block with
data beyond its single-user PRBs (a HARQ retransmission keeps its PRB count and MCS, so neither it nor
its groups are shared), and joins no more groups than that data needs. This is the greedy user selection
of zero-forcing MU-MIMO (Yoo and Goldsmith, "On the optimality of multiantenna broadcast scheduling
using zero-forcing beamforming", IEEE JSAC 24(3), 2006, semi-orthogonal user selection) with the
scheduler's metric in place of the rate.

Link adaptation: a UE reports its single-user channel state (its CSI); for a transport block on shared
groups the sector lowers the MCS by its own estimate of the MU loss (the effective SINR of the allocation at
the estimated MU SINRs against the single-user ones), and by the UE's MU offset, an OLLA loop of its own
(:class:`~.mac.UeMac`) that only the ACKs of shared blocks move. Pairing weighs each member's estimated SINR
that offset lower. So where the known channel no longer separates the layers (30 km/h, 5-20 ms old),
shared blocks fail, the offsets rise and pairing nearly stops: MU-MIMO carries within 10 % of single-user
beamforming instead of losing up to half of it. A UE whose offset rose is paired again only when a partner
is orthogonal enough to beat that offset (the offset falls only on shared ACKs).

Uplink (``link.direction="uplink"``): up to ``cell.mu_mimo_ues`` single-antenna UEs send on the same PRB
group, each at its own open-loop power (no split: each has its own amplifier), and the sector separates them
with a zero-forcing receive combiner over its ``channel.num_rx_ant`` elements, computed from the channel of
the slot it decodes (its DMRS): with ``G`` the ``R x K`` channels each scaled by its UE's power over noise,
UE ``k`` gets ``1 / (D_k [(G^H G)^-1]_kk)`` (:func:`zf_receive_sinr`), no leakage whatever the channel's
age. The age ``cell.csi_delay_ms`` is that of the channel pairing and the MCS estimate read (the SRS the
sector last heard): an estimate from an older channel than the one decoded is wrong, not leaky. ``D_k`` is
the noise plus other-sector interference after UE ``k``'s single-user (MRC) combiner, as its single-user
SINR has it (the interference's spatial colour after a ZF combiner is not modelled); with ``K = 1`` the
formula is the single-user SINR exactly. The other sectors stay single-user: one of their UEs sends on each
group (:mod:`.uplink`), not ``K``, so this is the gain of the one sector that pairs; were every sector pairing
``K`` UEs, the uplink interference would be up to ``K`` times as strong (on the downlink a pairing sector's
total power, and so its interference, does not grow with ``K``).

Not modelled: codebook (Type II) quantisation of the channel the sector precodes with, SRS-based
reciprocity errors, regularised ZF/MMSE precoding or MMSE-IRC receivers, and more than one layer per UE.
"""
from __future__ import annotations

import numpy as np

__all__ = ["zf_precoders", "mu_sinr", "zf_receive_sinr", "layer_sinr", "pair_groups"]

#: diagonal loading of the Gram matrix relative to its trace: keeps near-parallel sets finite (they get a
#: near-zero gain and are never chosen)
_LOADING = 1e-9


def _loaded_inverse(gram: np.ndarray) -> np.ndarray:
    """``[..., K, K]`` inverse of a Gram matrix with :data:`_LOADING` of its trace on the diagonal."""
    load = _LOADING * np.real(np.trace(gram, axis1=-2, axis2=-1))[..., None, None] * np.eye(gram.shape[-1])
    return np.linalg.inv(gram + load)


def zf_precoders(h: np.ndarray) -> np.ndarray:
    """Zero-forcing precoders with unit-norm columns: ``h`` ``[..., K, T]`` complex -> ``[..., T, K]``."""
    gram = h @ np.conj(np.swapaxes(h, -1, -2))                                           # [..., K, K]
    w = np.conj(np.swapaxes(h, -1, -2)) @ _loaded_inverse(gram)                          # [..., T, K]
    return w / np.maximum(np.linalg.norm(w, axis=-2, keepdims=True), 1e-30)


def mu_sinr(h: np.ndarray, w: np.ndarray, den: np.ndarray, snr_scale: float) -> np.ndarray:
    """Linear SINR of each of ``K`` layers (module docstring): ``h`` ``[..., K, T]`` the channels the UEs see,
    ``w`` ``[..., T, K]`` the precoders, ``den`` ``[..., K]`` noise plus other-sector interference over noise.
    Returns ``[..., K]``."""
    g = np.abs(h @ w) ** 2                                                               # [..., K, K] |h_k w_j|^2
    share = snr_scale / w.shape[-1]
    sig = np.diagonal(g, axis1=-2, axis2=-1)
    leak = g.sum(axis=-1) - sig
    return share * sig / (den + share * leak)


def zf_receive_sinr(h: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Linear SINR of ``K`` uplink UEs a zero-forcing receiver separates (module docstring): ``h`` ``[..., K, R]``
    each UE's channel at the sector's ``R`` elements scaled by its power over noise, ``den`` ``[..., K]`` noise
    plus other-sector interference over noise. Returns ``[..., K]`` ``1 / (den_k [(G^H G)^-1]_kk)``, ``G = h^T``."""
    gram = np.conj(h) @ np.swapaxes(h, -1, -2)                                          # [..., K, K] G^H G
    inv_diag = np.real(np.diagonal(_loaded_inverse(gram), axis1=-2, axis2=-1))
    return 1.0 / (den * np.maximum(inv_diag, 1e-30))


def layer_sinr(h_now: np.ndarray, h_known: np.ndarray, den: np.ndarray, snr_scale: float, uplink: bool) -> np.ndarray:
    """``[..., K]`` SINR of ``K`` UEs sharing a group whose channels are ``h_now`` ``[..., K, T]`` (with noise plus
    interference ``den``), separated with what the sector knows, ``h_known``: the downlink's ZF precoders from
    it (:func:`mu_sinr`), or on the uplink the ZF receiver of the channel it decodes (:func:`zf_receive_sinr`,
    which needs no older knowledge)."""
    if uplink:
        return zf_receive_sinr(h_now, den)
    return mu_sinr(h_now, zf_precoders(h_known.astype(np.complex128)), den, snr_scale)


def pair_groups(h: np.ndarray, den: np.ndarray, owner: np.ndarray, shareable: np.ndarray, joinable: np.ndarray,
                need_prbs: np.ndarray, group_prbs: np.ndarray, avg: np.ndarray, weight: np.ndarray | None, priority,
                snr_scale: float, max_ues: int, backoff_db: np.ndarray | None = None,
                uplink: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Grow each PRB group's single-user owner into a zero-forcing set (module docstring).

    Args:
        h: ``[A, G, T]`` complex, each active UE's effective channel as the sector knows it.
        den: ``[A, G]`` noise plus other-sector interference over noise, as reported.
        owner: ``[G]`` int, the active UE each group went to (-1: none; such a group stays empty).
        shareable: ``[G]`` bool, groups others may join (not those of a HARQ retransmission).
        joinable: ``[A]`` bool, UEs that may join another's group (a new TB with data beyond its PRBs).
        need_prbs: ``[A]`` int, PRBs each joinable UE's data needs beyond its single-user ones.
        group_prbs: ``[G]`` PRBs per group.
        avg, weight: the rule's PF average and head-of-line weight per active UE (``weight`` None if unused).
        priority: the rule's ``priority(rate [N, 1], avg [N], weight [N] | None) -> [N, 1]``.
        snr_scale: the sector's power per PRB over noise for a unit channel gain.
        max_ues: most members per group (``cell.mu_mimo_ues``).
        backoff_db: ``[A]`` each UE's MU OLLA offset (dB): a shared group's metric weighs each member's
            estimated SINR that much lower (None: 0), so a UE whose shared transmissions fail is paired less.
        uplink: the UEs send and the sector combines (:func:`zf_receive_sinr`; ``h`` already scaled to each
            UE's power over noise, ``snr_scale`` 1) instead of the sector precoding to them.

    Returns:
        ``members`` ``[G, max_ues]`` int (active UE indices, -1 padded, column 0 the owner) and ``sinr``
        ``[G, max_ues]`` float64, each member's estimated SINR in its final set (NaN where there is none).
    """
    g_len = h.shape[1]
    members = np.full((g_len, max_ues), -1, np.int64)
    members[:, 0] = owner
    sinr = np.full((g_len, max_ues), np.nan)
    sizes = np.asarray(group_prbs, np.float64)
    grow = np.flatnonzero((owner >= 0) & shareable)
    cands = np.flatnonzero(joinable & (need_prbs > 0))
    if not len(grow) or not len(cands):
        return members, sinr
    o = owner[grow]
    sinr[grow, 0] = snr_scale * (np.abs(h[o, grow]) ** 2).sum(-1) / den[o, grow]
    metric = _metric(sinr[grow, :1], members[grow, :1], sizes[grow], avg, weight, priority)      # [len(grow)]
    left = need_prbs.astype(np.float64)
    scale = None if backoff_db is None else 10.0 ** (-np.asarray(backoff_db, np.float64) / 10.0)
    for k in range(1, max_ues):
        if not len(grow) or not len(cands):
            break
        n_g, n_c = len(grow), len(cands)
        trial = np.concatenate([np.broadcast_to(members[grow, None, :k], (n_g, n_c, k)),
                                np.broadcast_to(cands[None, :, None], (n_g, n_c, 1))], axis=2)   # [g, c, k+1]
        at = grow[:, None, None]
        hk = h[trial, at]                                                                  # [g, c, k+1, T]
        s = layer_sinr(hk, hk, den[trial, at], snr_scale, uplink)                         # [g, c, k+1]
        seen = s if scale is None else s * scale[trial]
        m = _metric(seen.reshape(-1, k + 1), trial.reshape(-1, k + 1), np.repeat(sizes[grow], n_c),
                    avg, weight, priority).reshape(n_g, n_c)
        fresh = ~(members[grow, None, :k] == cands[None, :, None]).any(-1)                 # [g, c]
        gain = np.where(fresh, m - metric[:, None], -np.inf)
        best = gain.argmax(axis=1)
        top = gain[np.arange(n_g), best]
        took = np.zeros(n_g, bool)
        for i in np.argsort(-top, kind="stable").tolist():                                # biggest gain first
            if not top[i] > 0:
                break
            a = int(cands[best[i]])
            if left[a] <= 0:
                continue
            g = int(grow[i])
            left[a] -= sizes[g]
            members[g, k] = a
            sinr[g, :k + 1] = s[i, best[i]]
            metric[i] = m[i, best[i]]
            took[i] = True
        grow, metric = grow[took], metric[took]                                            # the rest stop growing
        cands = cands[left[cands] > 0]
    return members, sinr


def _metric(sinr: np.ndarray, who: np.ndarray, sizes: np.ndarray, avg: np.ndarray, weight, priority) -> np.ndarray:
    """Summed scheduling metric of each set: ``sinr``/``who`` ``[N, K]`` active UE indices, ``sizes`` ``[N]``
    PRBs of the set's group."""
    rate = sizes[:, None] * np.log2(1.0 + sinr)
    return priority(rate.reshape(-1, 1), avg[who].reshape(-1),
                    None if weight is None else weight[who].reshape(-1)).reshape(rate.shape).sum(axis=1)
