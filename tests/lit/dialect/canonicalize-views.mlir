// RUN: graphopt-opt %s -split-input-file --canonicalize | FileCheck %s

// GPT-2's head split: q = qkv.split(768, -1)[1].view(4, 256, 12, 64). The
// reshape moves onto the whole projection output ([4,256,36,64], a free
// view) and the slice after it picks heads 12..23, a box a kernel absorbs.
// CHECK-LABEL: func.func @head_split
// CHECK: %[[R:.*]] = graphopt.reshape %arg0 : tensor<4x256x2304xf32> to tensor<4x256x36x64xf32>
// CHECK: %[[S:.*]] = graphopt.slice %[[R]] [0, 0, 12, 0] : tensor<4x256x36x64xf32> to tensor<4x256x12x64xf32>
// CHECK: return %[[S]]
func.func @head_split(%qkv: tensor<4x256x2304xf32>) -> tensor<4x256x12x64xf32> {
  %k = graphopt.slice %qkv [0, 0, 768] : tensor<4x256x2304xf32> to tensor<4x256x768xf32>
  %h = graphopt.reshape %k : tensor<4x256x768xf32> to tensor<4x256x12x64xf32>
  return %h : tensor<4x256x12x64xf32>
}

// -----

// x[:, 5] (a slice of size 1, then the dim dropped): the start is carried by
// the merged inner dim.
// CHECK-LABEL: func.func @select
// CHECK: %[[R:.*]] = graphopt.reshape %arg0 : tensor<4x12x64xf32> to tensor<4x768xf32>
// CHECK: graphopt.slice %[[R]] [0, 320] : tensor<4x768xf32> to tensor<4x64xf32>
func.func @select(%x: tensor<4x12x64xf32>) -> tensor<4x64xf32> {
  %s = graphopt.slice %x [0, 5, 0] : tensor<4x12x64xf32> to tensor<4x1x64xf32>
  %r = graphopt.reshape %s : tensor<4x1x64xf32> to tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// -----

// Rows 2..5 of a matrix, flattened: the rows are contiguous with each other,
// so the flat result is one box of the flat input.
// CHECK-LABEL: func.func @rows_flattened
// CHECK: %[[R:.*]] = graphopt.reshape %arg0 : tensor<8x16xf32> to tensor<128xf32>
// CHECK: graphopt.slice %[[R]] [32] : tensor<128xf32> to tensor<64xf32>
func.func @rows_flattened(%x: tensor<8x16xf32>) -> tensor<64xf32> {
  %s = graphopt.slice %x [2, 0] : tensor<8x16xf32> to tensor<4x16xf32>
  %r = graphopt.reshape %s : tensor<4x16xf32> to tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

// Left alone: flattening a column slice would need a copy (its rows are not
// contiguous with each other), and so would the same elements as a box of
// any reshape of x.
// CHECK-LABEL: func.func @columns_flattened
// CHECK: %[[S:.*]] = graphopt.slice %arg0 [0, 4] : tensor<8x16xf32> to tensor<8x8xf32>
// CHECK: graphopt.reshape %[[S]] : tensor<8x8xf32> to tensor<64xf32>
func.func @columns_flattened(%x: tensor<8x16xf32>) -> tensor<64xf32> {
  %s = graphopt.slice %x [0, 4] : tensor<8x16xf32> to tensor<8x8xf32>
  %r = graphopt.reshape %s : tensor<8x8xf32> to tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

// Left alone: splitting the sliced dim into 4 x 3 puts the start (column 2)
// mid-group; no reshape of x has a dim of 3 that starts a box there.
// CHECK-LABEL: func.func @split_off_grid
// CHECK: %[[S:.*]] = graphopt.slice %arg0 [0, 2] : tensor<8x16xf32> to tensor<8x12xf32>
// CHECK: graphopt.reshape %[[S]] : tensor<8x12xf32> to tensor<8x4x3xf32>
func.func @split_off_grid(%x: tensor<8x16xf32>) -> tensor<8x4x3xf32> {
  %s = graphopt.slice %x [0, 2] : tensor<8x16xf32> to tensor<8x12xf32>
  %r = graphopt.reshape %s : tensor<8x12xf32> to tensor<8x4x3xf32>
  return %r : tensor<8x4x3xf32>
}

// -----

// A slice of a slice is one slice; a slice of the whole input is the input.
// CHECK-LABEL: func.func @compose
// CHECK: %[[S:.*]] = graphopt.slice %arg0 [3, 5] : tensor<8x16xf32> to tensor<2x4xf32>
// CHECK-NEXT: return %[[S]], %arg0
func.func @compose(%x: tensor<8x16xf32>) -> (tensor<2x4xf32>, tensor<8x16xf32>) {
  %a = graphopt.slice %x [1, 4] : tensor<8x16xf32> to tensor<6x8xf32>
  %b = graphopt.slice %a [2, 1] : tensor<6x8xf32> to tensor<2x4xf32>
  %c = graphopt.slice %x [0, 0] : tensor<8x16xf32> to tensor<8x16xf32>
  return %b, %c : tensor<2x4xf32>, tensor<8x16xf32>
}
