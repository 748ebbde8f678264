/**
 * The names of the primitive ops (built in ops.ts). The set is closed: every primitive has exactly
 * one gradient rule (gradients.ts) and one ONNX lowering (onnx/lower.ts), and both are checked
 * exhaustive against this union by the compiler, so adding a primitive without them does not build.
 */
export type Primitive =
  // elementwise arithmetic and comparison (numpy broadcasting)
  | 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow'
  | 'Less' | 'Greater' | 'Equal' | 'Where'
  // elementwise unary
  | 'Neg' | 'Relu' | 'Elu' | 'Sigmoid' | 'Exp' | 'Log' | 'Sqrt' | 'Abs' | 'Sign' | 'StopGradient' | 'Cast'
  // reductions
  | 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin' | 'ArgMin' | 'ArgMax'
  // linear algebra and layout
  | 'MatMul' | 'Reshape' | 'Transpose' | 'Concat' | 'Slice' | 'Pad' | 'Expand'
  // indexing
  | 'Gather' | 'ScatterAdd' | 'OneHot'
  // convolution
  | 'Conv' | 'ConvTranspose' | 'ConvFilterGrad';
