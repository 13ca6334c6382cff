"""The vocabulary of the MLIR text the importer prints: element types,
tensor types, SSA values and scalar literals."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


class Unsupported(Exception):
    """The graph as a whole cannot be imported (the backend runs it eagerly)."""


_DTYPES = {
    torch.float32: "f32", torch.float64: "f64", torch.float16: "f16", torch.bfloat16: "bf16",
    torch.int64: "i64", torch.int32: "i32", torch.int16: "i16", torch.int8: "i8",
    torch.uint8: "ui8", torch.bool: "i1",
    torch.complex64: "complex<f32>", torch.complex128: "complex<f64>",
}
# Element types the kernels compute in; anything else goes through torch.
NATIVE_DTYPES = {torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.int32,
                 torch.int16, torch.int8, torch.uint8, torch.bool}


def mlir_dtype(dtype: torch.dtype) -> str:
    if dtype not in _DTYPES:
        raise Unsupported(f"dtype {dtype} has no graphopt equivalent")
    return _DTYPES[dtype]


def tensor_type(shape, dtype) -> str:
    dims = "".join(f"{d}x" for d in shape)
    return f"tensor<{dims}{mlir_dtype(dtype)}>"


@dataclass(frozen=True)
class V:
    """An SSA value of the module being printed."""
    name: str
    shape: tuple
    dtype: torch.dtype

    @property
    def type(self) -> str:
        return tensor_type(self.shape, self.dtype)


def literal(value, dtype: torch.dtype) -> str:
    """A scalar as an MLIR dense literal of `dtype`."""
    if dtype == torch.bool:
        return "true" if value else "false"
    if dtype.is_floating_point:
        value = float(value)
        if math.isfinite(value):
            return "%.17e" % value
        bits = {torch.float32: (0x7F800000, 0xFF800000, 0x7FC00000),
                torch.float64: (0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000),
                torch.float16: (0x7C00, 0xFC00, 0x7E00),
                torch.bfloat16: (0x7F80, 0xFF80, 0x7FC0)}[dtype]
        return hex(bits[2] if math.isnan(value) else bits[0] if value > 0 else bits[1])
    return str(int(value))
