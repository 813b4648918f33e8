"""Shared fixtures."""
import pytest


@pytest.fixture(scope="module")
def silu(tmp_path_factory):
    """SiLU written as a user activation without closed-form kernels (codegen only, registry
    entry, no checks), in a private cache folder for the module; yields its name."""
    from symndk.codegen.writer import write_activation
    from symndk.kernels import loader
    from symndk.spec.activations import X
    from symndk.spec.dual import DualKernels

    import sympy as sp

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        write_activation("t_silu", loader.cache_dir(), X / (1 + sp.exp(-X)),
                         DualKernels(None, None, None, None, None, None, "none"))
        yield "t_silu"
        loader.forget("t_silu")
