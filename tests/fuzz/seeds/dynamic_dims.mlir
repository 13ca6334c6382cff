func.func @f(%a: tensor<?x4xf32>, %b: tensor<4x?xf32>) -> tensor<?x?xf32> {
  %0 = graphopt.exp %a : tensor<?x4xf32>
  %1 = graphopt.matmul %0, %b : (tensor<?x4xf32>, tensor<4x?xf32>) -> tensor<?x?xf32>
  %2 = graphopt.tanh %1 : tensor<?x?xf32>
  return %2 : tensor<?x?xf32>
}
