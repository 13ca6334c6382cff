//===- Passes.td - graphopt's passes -------------------------------------===//
#ifndef GRAPHOPT_PASSES_TD
#define GRAPHOPT_PASSES_TD

include "mlir/Pass/PassBase.td"

def GraphOptLayout : Pass<"graphopt-layout", "mlir::func::FuncOp"> {
  let summary = "Run 2-D convolutions channels-last and keep the tensors "
                "between them NHWC; let matmuls read transposed operands";
  let description = [{
    Rewrites each 2-D, non-transposed `aten::convolution` extern into
    `graphopt::convolution_channels_last` (the same arguments; its input and
    result are NHWC tensors) between an NCHW -> NHWC permute of the input and
    an NHWC -> NCHW permute of the result, and each such
    `aten::convolution_backward` into
    `graphopt::convolution_backward_channels_last` (NHWC grad_output, input
    and input gradient; the weight and bias gradients as before), unless the
    function's `graphopt.kernels` attribute says its kernels run on CUDA,
    whose per-channel sums of NHWC data are slow. Then, until nothing
    changes:

      - an elementwise op whose full-size operands are all NHWC -> NCHW
        permutes computes in NHWC (its broadcast operands are reshaped to
        rank 4 and permuted, scalars stay) and is followed by the permute;
      - a broadcast of a `[N,C,1,1]` value over H and W (a global pool's
        gradient) is the NCHW view of an NHWC broadcast (not for CUDA
        kernels, as above);
      - a reduction of an NHWC -> NCHW permute reduces the NHWC tensor over
        the corresponding dims (a permute follows if the kept dims come out
        in another order);
      - permute(permute(x)) composes, and cancels when it is the identity;
      - a permute that only moves size-1 dims becomes a reshape, and
        reshape(reshape(x)) one reshape;
      - such a reshape of an elementwise result moves to the operands, so
        the arithmetic on a per-channel parameter (BatchNorm's
        rsqrt(var + eps)) stays fusible with the kernel that uses it.

    Between two convolutions the permutes meet and cancel, so the BatchNorm,
    ReLU and residual kernels there read and write NHWC. Other permutes are
    left alone (attention's head transposes are not layout changes). A value
    the function returns through such a permute is copied back to NCHW (a
    same-type `cast`): callers get eager's layout. The results that
    `graphopt.saved_results` lists (a training forward graph's activations,
    which only its backward graph reads) are not copied (unless the
    function's kernels run on CUDA): they leave as NCHW views of NHWC
    memory, and the backward graph takes them as NHWC arguments. The pass first runs on a copy of the function and keeps the
    result only when the copies number at most half the convolutions:
    copying many activations would cost more than the convolutions gain.

    Independently of convolutions, a matmul, bmm or addmm operand that
    copies a transpose of its last two dims (maybe then merging its leading
    dims, as attention's `k.transpose(-2, -1)` before bmm) becomes the
    transposed view of a copy of the untransposed tensor, and of the tensor
    itself when it is not a view: the GEMM reads a transposed operand at no
    cost, and the copy streams along rows instead of striding. The copy's
    other uses may be saved results (a training forward graph saves k^T for
    its backward): those leave as the same transposed view, and the backward
    graph imports the memory in its own order (k's shape) and permutes it
    back, where that permute cancels with its own transpose of k^T. Chains
    of permutes compose on every graph.

    Before:
    ```mlir
    %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "..."}
        : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
    %r = graphopt.relu %y : tensor<2x4x8x8xf32>
    %z = graphopt.extern "aten::convolution.default"(%r, %w2) {args = "..."}
        : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
    ```
    After:
    ```mlir
    %xn = graphopt.permute %x [0, 2, 3, 1] : tensor<2x3x8x8xf32> to tensor<2x8x8x3xf32>
    %yn = graphopt.extern "graphopt::convolution_channels_last.default"(%xn, %w) ...
    %rn = graphopt.relu %yn : tensor<2x8x8x4xf32>
    %zn = graphopt.extern "graphopt::convolution_channels_last.default"(%rn, %w2) ...
    %z = graphopt.permute %zn [0, 3, 1, 2] : tensor<2x8x8x4xf32> to tensor<2x4x8x8xf32>
    ```
  }];
  let dependentDialects = ["::graphopt::GraphOptDialect"];
}

def GraphOptConvEpilogue : Pass<"graphopt-conv-epilogue", "mlir::func::FuncOp"> {
  let summary = "Fold a channels-last convolution's per-channel affine "
                "epilogue into its weights and bias, and its residual add "
                "and ReLU into the call";
  let description = [{
    For each `graphopt::convolution_channels_last` (f32, not transposed),
    follows its result down a chain of single-use elementwise ops, in this
    order: ops with a per-channel operand (a value of shape `[.., 1, C]` or
    a scalar) that the convolution is on the left of or commutes with
    (`add`, `sub`, `mul`, `div`: an inference BatchNorm), at most one `add`
    of a full-size residual, at most one `relu`. The chain becomes one
    `graphopt::convolution_pointwise_channels_last` call: `a * conv(x, W) +
    b` is `conv(x, W * a) + b`, so the weight is scaled per output channel
    and the shift is the bias, and the residual add and the ReLU run as
    mkldnn's post-ops while the output is in cache. The scale and shift are
    computed on `[1, 1, 1, C]` values. Left alone: functions whose
    `graphopt.kernels` is not `cpp` (the call is mkldnn's), other element
    types, an intermediate value with another user, a residual before an
    affine op, and `c - conv` or `c / conv`.
  }];
}

def GraphOptFuse : Pass<"graphopt-fuse", "mlir::func::FuncOp"> {
  let summary = "Group elementwise chains and reductions with their "
                "elementwise prologue and epilogue into graphopt.kernel ops";
  let description = [{
    Walks the function from its last op to its first. Every elementwise op or
    reduction not yet grouped roots a new fusion group; the group then takes
    in its producers, one at a time, when the producer is elementwise
    (including `broadcast`, `cast`), a `permute` or a `constant`, and

      1. all of its uses are inside the group, or (pointwise groups only) its
         result has the group's full iteration shape, so it can be written as
         a second output in the same loop;
      2. taking it in creates no cycle: no path leaves the group through an
         outside op and comes back in.

    Views (`permute`, `broadcast`) and constants are first duplicated per use,
    so each fusion group gets its own copy (index math inside the kernel) and
    the ones feeding matmuls or externs stay outside, as zero-copy views.
    A reduction either roots its own group (taking its private elementwise
    prologue), or joins a pointwise group: when it is a private keepdim
    reduction over the innermost dim of the group's rows (softmax, layer
    norm), the emitter computes it once per row before the row's loop; when
    its result has the group's iteration shape (BatchNorm's mean = sum / N,
    rstd = rsqrt(var / N + eps)), the group is its epilogue, and the emitter
    computes the reduction per output element, then the pointwise ops on it.
    A group takes one reduction of its own shape and then no other reduction,
    nor one of those beside row reductions: computed in the same loops, one
    would be redone for each element the other reads. Each group
    becomes one `graphopt.kernel` whose region holds the members; the
    function is then re-sorted topologically.

    Before:
    ```mlir
    %0 = graphopt.mul %x, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
    %1 = graphopt.erf %0 : tensor<8xf32>
    %2 = graphopt.add %1, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
    ```
    After:
    ```mlir
    %k = graphopt.kernel (%x) : (tensor<8xf32>) -> tensor<8xf32> {
    ^bb0(%a: tensor<8xf32>):
      %c = graphopt.constant dense<0.7> : tensor<f32>
      %0 = graphopt.mul %a, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
      %1 = graphopt.erf %0 : tensor<8xf32>
      %2 = graphopt.add %1, %a : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
      graphopt.yield %2 : tensor<8xf32>
    }
    ```
  }];
  let dependentDialects = ["::graphopt::GraphOptDialect"];
}

def GraphOptFuseSiblings : Pass<"graphopt-fuse-siblings", "mlir::func::FuncOp"> {
  let summary = "Merge kernels that graphopt-fuse left apart: sibling "
                "reductions, and tiny kernels of one shape";
  let description = [{
    Merges pairs of `graphopt.kernel` ops, the later one's place taking the
    merged kernel, when no path through other ops leads from the earlier to
    the later (the merged kernel could not be placed), and

      1. (sibling reductions) both reduce an input of one shape over the same
         dims to their iteration shape, with or without a pointwise epilogue,
         and they share an operand of the reduced input's shape: the emitters
         compute both in one loop nest, so the shared input is read once. A
         BatchNorm backward's sum(dy) and sum(dy * x_hat), and a LayerNorm
         backward's bias and weight gradients, are such pairs; or
      2. (tiny kernels) one is pointwise with at most 4096 outputs, and the
         other, pointwise or a reduction kernel, has its iteration shape:
         such a kernel costs its launch, not its loop. It may read the
         other's results (an epilogue graphopt-fuse gave another consumer of
         the same sum) or not (BatchNorm's two running-statistic updates).

    The merged kernel has both bodies; each operand once; the earlier
    kernel's results still used elsewhere, then the later's. Reads of the
    earlier kernel's results in the later one become the values inside.
    Kernels with row reductions are left alone.

    Before:
    ```mlir
    %a = graphopt.kernel(%dy) ... { reduce_sum %dy [0, 2, 3] ... }
    %b = graphopt.kernel(%x, %dy) ... { mul ...; reduce_sum ... [0, 2, 3] ... }
    ```
    After:
    ```mlir
    %k:2 = graphopt.kernel(%dy, %x) ... {
      reduce_sum %dy [0, 2, 3]; mul ...; reduce_sum ... [0, 2, 3]; yield ...
    }
    ```
  }];
}

def GraphOptPlanMemory : Pass<"graphopt-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Assign every intermediate tensor an offset in one arena, "
                "reusing memory of tensors that are dead";
  let description = [{
    Numbers the function's ops, computes each buffer's live interval (its
    definition to its last use, widened over views and over externs that may
    alias it: all but those marked `graphopt.fresh_results`, whose ATen schema
    gives no result an alias annotation) and packs the intervals into one arena: largest buffers first, each at
    the lowest aligned offset that overlaps no buffer live at the same time.
    Function arguments, returned values (and everything aliasing them),
    extern results and standalone constants are not placed in the arena.

    In place: a kernel that reads an input only at each output's own index
    (a pointwise kernel, or an epilogue kernel whose reductions all have its
    iteration shape, reading the input after them) writes an output into the
    buffer of that input when it dies there, of the same shape and byte size,
    whose storage has one arena buffer and is not passed again through a
    view. The kernel gets `graphopt.in_place` (per output, the input it
    overwrites, or -1); the emitters drop `__restrict` on that pair.

    Input mutations: `aten::copy_(%arg, %new)` (a BatchNorm's running
    statistics, which AOTAutograd writes back at the end of the graph) goes
    when `%new` is a kernel result used only by the copy, the kernel reads
    `%arg` at its own index as above, and nothing reads `%arg` after the
    kernel: the kernel writes `%new` over `%arg` (`graphopt.in_place` names
    the argument; the launch plan gives the result storage `input`).

    The plan is recorded as attributes: `graphopt.arena_offsets` on each op
    (one entry per result, -1 for results outside the arena) and
    `graphopt.arena_size` / `graphopt.naive_size` on the function (naive is
    the sum of all planned buffers, i.e. no reuse).

    ```mlir
    %0 = graphopt.kernel (...) {graphopt.arena_offsets = array<i64: 0>} ...
    %1 = graphopt.matmul %0, %w {graphopt.arena_offsets = array<i64: 4096>} ...
    %2 = graphopt.kernel (%1) {graphopt.arena_offsets = array<i64: 0>} ...
    %3 = graphopt.kernel (%1) {graphopt.arena_offsets = array<i64: 4096>,
                               graphopt.in_place = array<i64: 0>} ...
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer in the arena">
  ];
}

def GraphOptCost : Pass<"graphopt-cost", "mlir::ModuleOp"> {
  let summary = "Print the predicted FLOPs, bytes and roofline time of every "
                "kernel on a hardware target";
  let description = [{
    An analysis printer (implemented in `csrc/costmodel/CostPass.cpp`; the
    model is `csrc/costmodel/CostModel.cpp`, see docs/cost-model.md). For each
    function it prints one row per step that launches work: the kernel (or
    contraction, or extern op), its FLOPs, the bytes it reads and writes, its
    arithmetic intensity, whether it is compute- or memory-bound on the
    target, and its predicted time, max(FLOPs / peak, bytes / bandwidth) plus
    the launch overhead; then the totals and the MFU. On unfused IR every op
    is its own kernel, which is how eager PyTorch runs the graph; after
    `--graphopt-pipeline`, the rows are graphopt's fused kernels. The IR is
    left unchanged.

    ```
    graphopt-opt --graphopt-pipeline --graphopt-cost=target=h100-sxm in.mlir -o /dev/null
    // @mlp
    cost on h100-sxm (67.0 TFLOP/s f32 matmul, 67.0 TFLOP/s vector, 3.4 TB/s)
     step  kernel                              FLOPs        bytes    FLOP/B bound       time (us)
        0  addmm                              33.7 M       1.4 MB     24.40 compute         4.503
        1  graphopt_mlp_k0                   917.5 K     524.3 KB      1.75 memory          4.157
    total: 2 launches, 34.6 MFLOP, 1.9 MB, 8.659 us, MFU 6.0%
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"h100-sxm\"",
           "A built-in target (h100-sxm, a100-sxm-80gb) or the path of a "
           "target .json file">
  ];
}

#endif // GRAPHOPT_PASSES_TD
