"""PyTorch's own OpInfo samples, compiled with graphopt vs eager, fp32,
forward and (where the op supports autograd) backward.

Every ATen overload graphopt lowers natively is listed in NATIVE_COVERAGE
with the OpInfos that produce it; test_every_native_op_is_covered fails when
a new lowering has no OpInfo here. CI runs the first SAMPLES_PER_OP samples
of each OpInfo (deterministic); GRAPHOPT_OPINFO_FULL=1 runs all of them.
"""
import os

import pytest
import torch
from torch.testing._internal.common_methods_invocations import op_db
from torch.utils._pytree import tree_map

import graphopt
from compare import check, outputs_and_grads, to64
from graphopt.importer import supported_ops

FULL = os.environ.get("GRAPHOPT_OPINFO_FULL", "") not in ("", "0")
SAMPLES_PER_OP = 3

# ATen overload lowered natively -> OpInfos whose graphs contain it.
NATIVE_COVERAGE = {
    "aten::add.Tensor": ["add"], "aten::add.Scalar": ["add"],
    "aten::sub.Tensor": ["sub"], "aten::sub.Scalar": ["sub"],
    "aten::mul.Tensor": ["mul"], "aten::mul.Scalar": ["mul"],
    "aten::div.Tensor": ["div.no_rounding_mode", "true_divide"], "aten::div.Scalar": ["div.no_rounding_mode"],
    "aten::rsub.Scalar": ["rsub"], "aten::rsub.Tensor": ["rsub"],
    "aten::pow.Tensor_Tensor": ["pow"], "aten::pow.Tensor_Scalar": ["pow"], "aten::pow.Scalar": ["pow"],
    "aten::maximum.default": ["maximum"], "aten::minimum.default": ["minimum"],
    "aten::clamp.default": ["clamp"], "aten::clamp_min.default": ["clamp_min"],
    "aten::clamp_max.default": ["clamp_max"],
    "aten::neg.default": ["neg"], "aten::abs.default": ["abs"], "aten::relu.default": ["nn.functional.relu"],
    "aten::exp.default": ["exp"], "aten::log.default": ["log"], "aten::tanh.default": ["tanh"],
    "aten::erf.default": ["erf"], "aten::sqrt.default": ["sqrt"], "aten::rsqrt.default": ["rsqrt"],
    "aten::sigmoid.default": ["sigmoid"], "aten::reciprocal.default": ["reciprocal"],
    "aten::eq.Tensor": ["eq"], "aten::eq.Scalar": ["eq"], "aten::ne.Tensor": ["ne"], "aten::ne.Scalar": ["ne"],
    "aten::lt.Tensor": ["lt"], "aten::lt.Scalar": ["lt"], "aten::le.Tensor": ["le"], "aten::le.Scalar": ["le"],
    "aten::gt.Tensor": ["gt"], "aten::gt.Scalar": ["gt"], "aten::ge.Tensor": ["ge"], "aten::ge.Scalar": ["ge"],
    "aten::where.self": ["where"], "aten::_to_copy.default": ["softmax.with_dtype"],
    "aten::clone.default": ["clone"], "aten::lift_fresh_copy.default": ["clone"],
    "aten::alias.default": ["view"], "aten::detach.default": ["nn.functional.dropout"],
    "aten::view.default": ["view"], "aten::_unsafe_view.default": ["matmul"],
    "aten::reshape.default": ["reshape"], "aten::squeeze.dim": ["squeeze"], "aten::squeeze.dims": ["squeeze.multiple"],
    "aten::squeeze.default": ["squeeze"], "aten::unsqueeze.default": ["unsqueeze"],
    "aten::flatten.using_ints": ["flatten"],
    "aten::permute.default": ["permute"], "aten::t.default": ["t"], "aten::transpose.int": ["transpose"],
    "aten::expand.default": ["expand"],
    "aten::slice.Tensor": ["narrow"], "aten::split.Tensor": ["split", "chunk"],
    "aten::split_with_sizes.default": ["split_with_sizes"], "aten::select.int": ["select"],
    "aten::unbind.int": ["unbind"],
    "aten::sum.dim_IntList": ["sum"], "aten::sum.default": ["sum"],
    "aten::amax.default": ["amax", "softmax"], "aten::max.default": ["max.reduction_no_dim"],
    "aten::mean.dim": ["mean"], "aten::mean.default": ["mean"],
    "aten::var_mean.correction": ["var_mean", "nn.functional.layer_norm"], "aten::var.correction": ["var"],
    "aten::mm.default": ["mm"], "aten::bmm.default": ["bmm"], "aten::addmm.default": ["addmm"],
    "aten::logical_and.default": ["logical_and"], "aten::logical_or.default": ["logical_or"],
    "aten::logical_xor.default": ["logical_xor"], "aten::logical_not.default": ["logical_not"],
    "aten::bitwise_and.Tensor": ["bitwise_and"], "aten::bitwise_or.Tensor": ["bitwise_or"],
    "aten::bitwise_xor.Tensor": ["bitwise_xor"], "aten::bitwise_not.default": ["bitwise_not"],
    "aten::full.default": ["full"], "aten::scalar_tensor.default": ["scalar_tensor"],
    "aten::full_like.default": ["full_like"], "aten::zeros_like.default": ["zeros_like"],
    "aten::zeros.default": ["zeros"], "aten::ones_like.default": ["ones_like"], "aten::ones.default": ["ones"],
}
# Composite ops that reach graphopt decomposed into the natives above.
DECOMPOSED = ["softmax", "log_softmax", "nn.functional.gelu", "nn.functional.layer_norm",
              "nn.functional.silu", "nn.functional.hardtanh", "nn.functional.leaky_relu",
              "nn.functional.batch_norm", "nn.functional.group_norm", "masked_fill",
              "nn.functional.mse_loss", "nn.functional.rms_norm", "lerp", "addcmul", "baddbmm",
              "nn.functional.linear", "matmul", "square"]


def _full_name(op):
    return f"{op.name}.{op.variant_test_name}" if op.variant_test_name else op.name


def _names():
    names = {n for ns in NATIVE_COVERAGE.values() for n in ns} | set(DECOMPOSED)
    return sorted(names)


# OpInfos run in fp32, except these, which have no fp32 samples.
BOOL_OPINFOS = {"bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"}
OPS = {_full_name(o): o for o in op_db if _full_name(o) in set(_names())}


def _dtype(name):
    return torch.bool if name in BOOL_OPINFOS else torch.float32
RESULTS = {"ops": 0, "samples": 0, "backward": 0}


def test_every_native_op_is_covered():
    missing = sorted(set(supported_ops()) - set(NATIVE_COVERAGE))
    assert not missing, f"native lowerings without an OpInfo in NATIVE_COVERAGE: {missing}"
    unknown = sorted(set(_names()) - set(OPS))
    assert not unknown, f"OpInfo names not in op_db: {unknown}"


def _detached_copy(sample):
    def copy(t):
        if isinstance(t, torch.Tensor):
            c = t.detach().clone()
            return c.requires_grad_(t.requires_grad)
        return t
    return tree_map(copy, (sample.input, sample.args, sample.kwargs))


@pytest.mark.parametrize("name", sorted(OPS))
def test_opinfo_samples_match_eager(name):
    op = OPS[name]
    dtype = _dtype(name)
    grad = op.supports_autograd and dtype.is_floating_point
    samples = list(op.sample_inputs("cpu", dtype, requires_grad=grad))
    if not FULL:
        samples = samples[:SAMPLES_PER_OP]
    assert samples, f"{name} has no {dtype} samples"
    RESULTS["ops"] += 1
    fn = lambda inp, args, kwargs: op.op(inp, *args, **kwargs)  # noqa: E731
    for i, sample in enumerate(samples):
        torch._dynamo.reset()
        compiled = torch.compile(fn, backend="graphopt", options={"strict": True})
        where = f"{name} sample {i}: {sample}"
        triple = (sample.input, sample.args, sample.kwargs)
        backward = grad
        if backward:
            ref, ref_g = outputs_and_grads(fn, _detached_copy(sample), i)
            got, got_g = outputs_and_grads(compiled, _detached_copy(sample), i)
        else:
            with torch.no_grad():
                ref, got = fn(*_detached_copy(sample)), compiled(*_detached_copy(sample))
            ref_g = got_g = None
        exact = lambda: outputs_and_grads(fn, to64(triple), i) if backward else (fn(*to64(triple)), None)  # noqa: E731
        check(got, ref, lambda: exact()[0], f"{where}: forward")
        RESULTS["samples"] += 1
        if ref_g is None:
            continue
        assert got_g is not None, f"{where}: compiled output lost its gradient"
        for k, (g, r) in enumerate(zip(got_g, ref_g)):
            assert (g is None) == (r is None), f"{where}: gradient {k} presence differs"
            if r is not None:
                check(g, r, lambda k=k: exact()[1][k], f"{where}: gradient {k}")
        RESULTS["backward"] += 1
    stats = graphopt.compiled_graphs()
    assert all(s.fallback is None for s in stats)
