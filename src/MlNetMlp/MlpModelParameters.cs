using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp;
using MlNetMlp.Interop;
using MlNetMlp.Training;

[assembly: LoadableClass(typeof(MlpModelParameters), null, typeof(SignatureLoadModel),
    "MlNetMlp multiclass MLP", MlpModelParameters.LoaderSignature)]

namespace MlNetMlp
{
    /// <summary>A trained multiclass multilayer perceptron: produces the class probabilities (softmax of the output
    /// layer) as the <c>Score</c> column. Saved to and loaded from model.zip like any ML.NET model.</summary>
    public sealed class MlpModelParameters : ModelParametersBase<VBuffer<float>>, IValueMapper
    {
        internal const string LoaderSignature = "MlNetMlpMulticlassExec";
        private const string RegistrationName = "MlpModelParameters";

        // Never change the signature or the loader signature; evolve the format with verWrittenCur/verWeCanReadBack.
        private static VersionInfo GetVersionInfo() => new VersionInfo(
            modelSignature: "MLPMULTI",
            verWrittenCur: 0x00010001, // initial: network + training history
            verReadableCur: 0x00010001,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(MlpModelParameters).Assembly.FullName);

        private readonly MlpNetwork _network;
        private readonly MlpEpochReport[] _history;
        private readonly VectorDataViewType _inputType;
        private readonly VectorDataViewType _outputType;

        internal MlpModelParameters(IHostEnvironment env, MlpNetwork network, IEnumerable<MlpEpochReport> history)
            : base(env, RegistrationName)
        {
            Host.CheckValue(network, nameof(network));
            _network = network;
            _history = history?.ToArray() ?? Array.Empty<MlpEpochReport>();
            _inputType = new VectorDataViewType(NumberDataViewType.Single, network.InputCount);
            _outputType = new VectorDataViewType(NumberDataViewType.Single, network.OutputCount);
        }

        private MlpModelParameters(IHostEnvironment env, ModelLoadContext ctx)
            : base(env, RegistrationName, ctx)
        {
            // *** Binary format ***
            // <base>: int sizeof(float)
            // <network>: see MlpNetwork.Save (sizes, activation, loss, parameters, CRC-32)
            // <history>: see MlpModelSerialization.WriteHistory
            try
            {
                _network = MlpNetwork.Load(ctx.Reader);
                _history = MlpModelSerialization.ReadHistory(ctx.Reader);
            }
            catch (System.IO.EndOfStreamException e)
            {
                throw new FormatException("The MlNetMlp model in this file is truncated.", e);
            }
            if (_network.Loss != NativeMethods.LossSoftmaxCrossEntropy)
                throw new FormatException("This model file holds an MlNetMlp network that is not a multiclass classifier.");
            _inputType = new VectorDataViewType(NumberDataViewType.Single, _network.InputCount);
            _outputType = new VectorDataViewType(NumberDataViewType.Single, _network.OutputCount);
        }

        internal static MlpModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            Contracts.CheckValue(env, nameof(env));
            env.CheckValue(ctx, nameof(ctx));
            ctx.CheckAtModel(GetVersionInfo());
            return new MlpModelParameters(env, ctx);
        }

        /// <inheritdoc/>
        protected override void SaveCore(ModelSaveContext ctx)
        {
            base.SaveCore(ctx);
            ctx.SetVersionInfo(GetVersionInfo());
            _network.Save(ctx.Writer);
            MlpModelSerialization.WriteHistory(ctx.Writer, _history);
        }

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

        internal MlpNetwork Network => _network;

        /// <summary>Width of every layer from input to output, e.g. <c>[784, 256, 128, 10]</c>.</summary>
        public IReadOnlyList<int> LayerSizes => _network.LayerSizes;

        /// <summary>The hidden layers' activation.</summary>
        public MlpActivation Activation => _network.Activation;

        /// <summary>Number of weights and biases.</summary>
        public long ParameterCount => _network.ParameterCount;

        /// <summary>One report per epoch that ran, including epochs after the best one when early stopping restored
        /// earlier weights.</summary>
        public IReadOnlyList<MlpEpochReport> TrainingHistory => _history;

        /// <summary>A copy of layer <paramref name="layer"/>'s weights, row-major <c>[in, out]</c>: element
        /// <c>i * out + j</c> connects input <c>i</c> to output <c>j</c>.</summary>
        public float[] GetWeights(int layer)
        {
            CheckLayer(layer);
            return _network.GetWeights(layer);
        }

        /// <summary>A copy of layer <paramref name="layer"/>'s biases (<c>out</c> values).</summary>
        public float[] GetBiases(int layer)
        {
            CheckLayer(layer);
            return _network.GetBiases(layer);
        }

        private void CheckLayer(int layer)
        {
            if (layer < 0 || layer >= _network.LayerCount)
                throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The network has {_network.LayerCount} layers (0 to {_network.LayerCount - 1}).");
        }

        DataViewType IValueMapper.InputType => _inputType;

        DataViewType IValueMapper.OutputType => _outputType;

        ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
        {
            Host.Check(typeof(TIn) == typeof(VBuffer<float>), "Input type must be VBuffer<float>.");
            Host.Check(typeof(TOut) == typeof(VBuffer<float>), "Output type must be VBuffer<float>.");
            var scorer = new RowScorer(_network, Host, NativeMethods.OutputProbability);
            ValueMapper<VBuffer<float>, VBuffer<float>> map = scorer.MapVector;
            return (ValueMapper<TIn, TOut>)(Delegate)map;
        }

        /// <summary>A one-line description: layer sizes, activation, parameter count, epochs trained.</summary>
        public override string ToString() =>
            $"MLP {string.Join("-", LayerSizes)} ({Activation}, softmax), {ParameterCount} parameters, {_history.Length} epochs trained";
    }
}
