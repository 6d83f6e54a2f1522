using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

namespace MlNetMlp.Onnx
{
    /// <summary>Writes a network into an ONNX graph: per layer a Gemm (weights [in, out], bias) and the activation.</summary>
    internal static class MlpOnnxExport
    {
        /// <summary>Opset 9 has every operator used (Gemm, Relu, LeakyRelu, Tanh, Sigmoid, Selu, Softmax, ArgMax, Cast).</summary>
        internal const int MinimumOpSet = 9;

        /// <summary>The preprocessing needs IsInf (opset 10) and Clip with its bounds as inputs (opset 11).</summary>
        internal const int PreprocessingOpSet = 11;

        /// <summary>Adds the input preprocessing after <paramref name="input"/> and returns the variable holding the
        /// network's inputs (<paramref name="input"/> itself when there is none): missing = IsNaN or IsInf (IsNaN only
        /// below opset 10), Where(missing, fill, x), (x - center) · scale, the smooth clip z / sqrt(1 + (z/3)²) after
        /// Clip to ±1e18, and the indicators as Cast(Gather(missing)) concatenated after the columns; the same
        /// operations in the same order as the native kernel. Needs opset <see cref="PreprocessingOpSet"/>.</summary>
        internal static string AddPreprocessing(OnnxContext ctx, MlpPreprocessing p, string input)
        {
            if (p == null)
                return input;
            ctx.CheckOpSetVersion(PreprocessingOpSet, "MlNetMlp input preprocessing");
            var columns = new VectorDataViewType(NumberDataViewType.Single, p.Inputs);
            var flags = new VectorDataViewType(BooleanDataViewType.Instance, p.Inputs);
            long[] row = { 1, p.Inputs };

            string nan = ctx.AddIntermediateVariable(flags, "mlp_isnan", true);
            ctx.CreateNode("IsNaN", input, nan, ctx.GetNodeName("IsNaN"), "");
            string inf = ctx.AddIntermediateVariable(flags, "mlp_isinf", true);
            ctx.CreateNode("IsInf", input, inf, ctx.GetNodeName("IsInf"), "");
            string missing = ctx.AddIntermediateVariable(flags, "mlp_missing", true);
            ctx.CreateNode("Or", new[] { nan, inf }, new[] { missing }, ctx.GetNodeName("Or"), "");
            string filled = ctx.AddIntermediateVariable(columns, "mlp_filled", true);
            ctx.CreateNode("Where", new[] { missing, ctx.AddInitializer(p.Fill, row, "mlp_fill"), input }, new[] { filled }, ctx.GetNodeName("Where"), "");
            string centred = ctx.AddIntermediateVariable(columns, "mlp_centred", true);
            ctx.CreateNode("Sub", new[] { filled, ctx.AddInitializer(p.Center, row, "mlp_center") }, new[] { centred }, ctx.GetNodeName("Sub"), "");
            string z = ctx.AddIntermediateVariable(columns, "mlp_scaled", true);
            ctx.CreateNode("Mul", new[] { centred, ctx.AddInitializer(p.Scale, row, "mlp_scale") }, new[] { z }, ctx.GetNodeName("Mul"), "");
            if (p.SmoothClip)
                z = AddSmoothClip(ctx, z, columns);
            if (p.IndicatorColumns.Length == 0)
                return z;

            var picked = new VectorDataViewType(BooleanDataViewType.Instance, p.IndicatorColumns.Length);
            string gathered = ctx.AddIntermediateVariable(picked, "mlp_missing_picked", true);
            var gather = ctx.CreateNode("Gather", new[] { missing, ctx.AddInitializer(p.IndicatorColumns.Select(c => (long)c), new long[] { p.IndicatorColumns.Length }, "mlp_indicator_columns") },
                new[] { gathered }, ctx.GetNodeName("Gather"), "");
            gather.AddAttribute("axis", 1);
            string indicators = ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Single, p.IndicatorColumns.Length), "mlp_indicators", true);
            var cast = ctx.CreateNode("Cast", gathered, indicators, ctx.GetNodeName("Cast"), "");
            cast.AddAttribute("to", InternalDataKindExtensions.ToInternalDataKind(DataKind.Single).ToType());
            string all = ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Single, p.Outputs), "mlp_inputs", true);
            var concat = ctx.CreateNode("Concat", new[] { z, indicators }, new[] { all }, ctx.GetNodeName("Concat"), "");
            concat.AddAttribute("axis", 1);
            return all;
        }

        /// <summary>Clip(z, ±1e18), then z / sqrt(1 + (z · (1/3))²).</summary>
        private static string AddSmoothClip(OnnxContext ctx, string z, VectorDataViewType type)
        {
            const float limit = 1e18f;
            string clipped = ctx.AddIntermediateVariable(type, "mlp_clamped", true);
            ctx.CreateNode("Clip", new[] { z, ctx.AddInitializer(-limit, "mlp_clip_min"), ctx.AddInitializer(limit, "mlp_clip_max") }, new[] { clipped }, ctx.GetNodeName("Clip"), "");
            string third = ctx.AddIntermediateVariable(type, "mlp_third", true);
            ctx.CreateNode("Mul", new[] { clipped, ctx.AddInitializer(1f / 3f, "mlp_one_third") }, new[] { third }, ctx.GetNodeName("Mul"), "");
            string square = ctx.AddIntermediateVariable(type, "mlp_square", true);
            ctx.CreateNode("Mul", new[] { third, third }, new[] { square }, ctx.GetNodeName("Mul"), "");
            string onePlus = ctx.AddIntermediateVariable(type, "mlp_one_plus", true);
            ctx.CreateNode("Add", new[] { square, ctx.AddInitializer(1f, "mlp_one_f") }, new[] { onePlus }, ctx.GetNodeName("Add"), "");
            string root = ctx.AddIntermediateVariable(type, "mlp_root", true);
            ctx.CreateNode("Sqrt", onePlus, root, ctx.GetNodeName("Sqrt"), "");
            string squashed = ctx.AddIntermediateVariable(type, "mlp_clipped", true);
            ctx.CreateNode("Div", new[] { clipped, root }, new[] { squashed }, ctx.GetNodeName("Div"), "");
            return squashed;
        }

        /// <summary>Adds the layers from <paramref name="input"/> to the raw output (logits / margin / value) and returns
        /// the name of that variable; when <paramref name="outputName"/> is given the last Gemm writes straight into it.</summary>
        internal static string AddLayers(OnnxContext ctx, MlpNetwork network, string input, string outputName = null)
        {
            ctx.CheckOpSetVersion(MinimumOpSet, "MlNetMlp");
            string h = input;
            for (int l = 0; l < network.LayerCount; l++)
            {
                int fanIn = network.Sizes[l], fanOut = network.Sizes[l + 1];
                bool last = l == network.LayerCount - 1;
                var weights = ctx.AddInitializer(network.GetWeights(l), new long[] { fanIn, fanOut }, $"mlp_W{l}");
                var biases = ctx.AddInitializer(network.GetBiases(l), new long[] { fanOut }, $"mlp_b{l}");
                var type = new VectorDataViewType(NumberDataViewType.Single, fanOut);
                string z = last && outputName != null ? outputName : ctx.AddIntermediateVariable(type, $"mlp_z{l}", true);
                ctx.CreateNode("Gemm", new[] { h, weights, biases }, new[] { z }, ctx.GetNodeName("Gemm"), "");
                h = z;
                if (last || network.Activation == MlpActivation.Identity)
                    continue;
                string a = ctx.AddIntermediateVariable(type, $"mlp_h{l}", true);
                string op = network.Activation switch
                {
                    MlpActivation.Relu => "Relu",
                    MlpActivation.LeakyRelu => "LeakyRelu",
                    MlpActivation.Tanh => "Tanh",
                    MlpActivation.Selu => "Selu",
                    _ => "Sigmoid",
                };
                var node = ctx.CreateNode(op, h, a, ctx.GetNodeName(op), "");
                if (network.Activation == MlpActivation.LeakyRelu)
                    node.AddAttribute("alpha", 0.01f);
                if (network.Activation == MlpActivation.Selu)
                {
                    node.AddAttribute("alpha", 1.67326324235437728f);
                    node.AddAttribute("gamma", 1.05070098735548049f);
                }
                h = a;
            }
            return h;
        }

        /// <summary>The ensemble's raw output (one member: its layers; several: the Mean of their raw outputs) into
        /// <paramref name="outputName"/>.</summary>
        internal static void AddRaw(OnnxContext ctx, MlpEnsemble ensemble, string input, string outputName, float[] range = null)
        {
            string target = range == null ? outputName
                : ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Single, ensemble.First.OutputCount), "mlp_unclamped", true);
            if (ensemble.Count == 1)
                AddLayers(ctx, ensemble.First, input, target);
            else
                ctx.CreateNode("Mean", ensemble.Members.Select(m => AddLayers(ctx, m, input)).ToArray(), new[] { target }, ctx.GetNodeName("Mean"), "");
            if (range != null)
            {
                ctx.CheckOpSetVersion(PreprocessingOpSet, "MlNetMlp prediction clamp");
                ctx.CreateNode("Clip", new[] { target, ctx.AddInitializer(range[0], "mlp_out_min"), ctx.AddInitializer(range[1], "mlp_out_max") },
                    new[] { outputName }, ctx.GetNodeName("Clip"), "");
            }
        }

        /// <summary>Multiclass: Score = softmax(logits) (the Mean of the members' softmax for an ensemble) into
        /// outputs[1], PredictedLabel = argmax + 1 as UInt32 key into outputs[0].</summary>
        internal static void AddMulticlass(OnnxContext ctx, MlpEnsemble ensemble, string[] outputs, string inputs)
        {
            var probabilities = new string[ensemble.Count];
            for (int m = 0; m < ensemble.Count; m++)
            {
                string logits = AddLayers(ctx, ensemble.Members[m], inputs);
                probabilities[m] = ensemble.Count == 1 ? outputs[1]
                    : ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Single, ensemble.First.OutputCount), "mlp_probabilities", true);
                var softmax = ctx.CreateNode("Softmax", logits, probabilities[m], ctx.GetNodeName("Softmax"), "");
                softmax.AddAttribute("axis", 1);
            }
            if (ensemble.Count > 1)
                ctx.CreateNode("Mean", probabilities, new[] { outputs[1] }, ctx.GetNodeName("Mean"), "");

            var index = ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Int64, 1), "mlp_argmax", true);
            var argmax = ctx.CreateNode("ArgMax", outputs[1], index, ctx.GetNodeName("ArgMax"), "");
            argmax.AddAttribute("axis", 1);
            argmax.AddAttribute("keepdims", 1);
            var one = ctx.AddInitializer(1L, "mlp_one");
            var key = ctx.AddIntermediateVariable(new VectorDataViewType(NumberDataViewType.Int64, 1), "mlp_key", true);
            ctx.CreateNode("Add", new[] { index, one }, new[] { key }, ctx.GetNodeName("Add"), "");
            var cast = ctx.CreateNode("Cast", key, outputs[0], ctx.GetNodeName("Cast"), "");
            cast.AddAttribute("to", InternalDataKindExtensions.ToInternalDataKind(DataKind.UInt32).ToType());
        }
    }
}
