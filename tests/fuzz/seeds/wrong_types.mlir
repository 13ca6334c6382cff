func.func @f(%a: tensor<4xi1>, %b: tensor<4x!llvm.ptr>) -> tensor<4xi1> {
  %0 = graphopt.where %a, %a, %a : (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = graphopt.kernel (%b) : (tensor<4x!llvm.ptr>) -> tensor<4xi1> {
  ^bb0(%x: tensor<4x!llvm.ptr>):
    %c = graphopt.cast %x : tensor<4x!llvm.ptr> to tensor<4xi1>
    graphopt.yield %c : tensor<4xi1>
  }
  return %0 : tensor<4xi1>
}
