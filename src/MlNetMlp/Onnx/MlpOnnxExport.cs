using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using MlNetMlp.Interop;

namespace MlNetMlp.Onnx
{
    /// <summary>Writes a network into an ONNX graph: per layer a Gemm (weights [in, out], bias) and the activation.</summary>
    internal static class MlpOnnxExport
    {
        /// <summary>Opset 9 has every operator used (Gemm, Relu, LeakyRelu, Tanh, Sigmoid, Softmax, ArgMax, Cast).</summary>
        internal const int MinimumOpSet = 9;

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
                    _ => "Sigmoid",
                };
                var node = ctx.CreateNode(op, h, a, ctx.GetNodeName(op), "");
                if (network.Activation == MlpActivation.LeakyRelu)
                    node.AddAttribute("alpha", 0.01f);
                h = a;
            }
            return h;
        }

        /// <summary>Multiclass: Score = softmax(logits) into outputs[1], PredictedLabel = argmax + 1 as UInt32 key into outputs[0].</summary>
        internal static void AddMulticlass(OnnxContext ctx, MlpNetwork network, string[] outputs, string featureColumn)
        {
            string logits = AddLayers(ctx, network, featureColumn);
            var softmax = ctx.CreateNode("Softmax", logits, outputs[1], ctx.GetNodeName("Softmax"), "");
            softmax.AddAttribute("axis", 1);

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
