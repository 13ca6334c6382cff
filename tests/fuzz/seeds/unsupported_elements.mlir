func.func @f(%a: tensor<4xcomplex<f32>>, %b: tensor<4xf16>, %c: tensor<4xi3>) -> (tensor<4xf16>, tensor<4xi3>) {
  %0 = graphopt.exp %b : tensor<4xf16>
  %1 = graphopt.add %c, %c : (tensor<4xi3>, tensor<4xi3>) -> tensor<4xi3>
  %2 = graphopt.cast %a : tensor<4xcomplex<f32>> to tensor<4xf16>
  return %0, %1 : tensor<4xf16>, tensor<4xi3>
}
