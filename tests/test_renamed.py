"""Renamed modules and names still work for old code, with a DeprecationWarning that names the new one;
a renamed keyword is refused with a message naming its new name."""
import importlib
import sys

import pytest

RENAMED_MODULES = [
    ("gsvc.video.synthetic", "gsvc.video.stills", "dead_leaves"),
    ("gsvc.video.motion", "gsvc.video.flow", "phase_shift_px"),
    ("gsvc.netsim.specs", "gsvc.netsim.receiverspec", "ReceiverSpec"),
    ("gsvc.netsim.channel.spec", "gsvc.netsim.channel.linkspec", "ChannelSpec"),
    ("gsvc.codecs.latency", "gsvc.timing", "make_latency_model"),
    ("gsvc.codecs.calibrate", "gsvc.timing.calibrate", "calibrate"),
]


@pytest.mark.parametrize("old, new, name", RENAMED_MODULES)
def test_an_old_module_name_warns_and_gives_the_same_objects(old, new, name):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_the_old_model_lists_follow_the_registry():
    """MODELS / LINK_LEVEL_MODELS / GEOMETRY_MODELS are computed from the channel-model registry, so a
    registered model appears in them (they were fixed tuples)."""
    from gsvc.netsim.channel import MODELS, cellspec, linkspec, models
    assert MODELS == tuple(models.model_names()) and "tdl-c" in MODELS
    assert "ideal" not in linkspec.LINK_LEVEL_MODELS and "umi" in linkspec.LINK_LEVEL_MODELS
    assert cellspec.GEOMETRY_MODELS == ("umi", "uma", "rma")


def test_jitterspec_is_now_service_jitter():
    from gsvc.timing import ServiceJitter
    from gsvc.timing import profile
    with pytest.warns(DeprecationWarning, match="renamed ServiceJitter"):
        assert profile.JitterSpec is ServiceJitter


def test_the_sampler_keyword_replaced_scheduler():
    from gsvc.codecs.sampler import sample
    with pytest.raises(TypeError, match=r"sample\(scheduler=...\) was renamed sample\(sampler=...\)"):
        sample(None, None, 4, scheduler="ddim")
