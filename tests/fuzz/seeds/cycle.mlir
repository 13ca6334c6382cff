func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graphopt.add %a, %1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = graphopt.exp %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}
