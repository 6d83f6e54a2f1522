using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace MlNetMlp
{
    /// <summary>What the three MlNetMlp models share: the network (layer sizes, activation, weights), the training
    /// history and the model.zip format. <typeparamref name="TOutput"/> is what one row scores to.</summary>
    public abstract class MlpModelParametersBase<TOutput> : ModelParametersBase<TOutput>, IValueMapper, ISingleCanSaveOnnx
    {
        private readonly MlpEpochReport[] _history;
        private readonly VectorDataViewType _inputType;

        internal MlpModelParametersBase(IHostEnvironment env, string name, MlpNetwork network, IEnumerable<MlpEpochReport> history)
            : base(env, name)
        {
            Host.CheckValue(network, nameof(network));
            Network = network;
            _history = history?.ToArray() ?? Array.Empty<MlpEpochReport>();
            _inputType = new VectorDataViewType(NumberDataViewType.Single, network.InputCount);
        }

        /// <summary>Reads the network and the history (see <see cref="SaveCore"/>); the stored loss must be one of
        /// <paramref name="expectedLosses"/>.</summary>
        internal MlpModelParametersBase(IHostEnvironment env, string name, ModelLoadContext ctx, int[] expectedLosses, string kind)
            : base(env, name, ctx)
        {
            try
            {
                Network = MlpNetwork.Load(ctx.Reader);
                _history = MlpModelSerialization.ReadHistory(ctx.Reader);
            }
            catch (System.IO.EndOfStreamException)
            {
                throw MlpNetwork.Corrupt("the file is truncated");
            }
            if (Array.IndexOf(expectedLosses, Network.Loss) < 0)
                throw MlpNetwork.Corrupt($"the network is not a {kind} model");
            _inputType = new VectorDataViewType(NumberDataViewType.Single, Network.InputCount);
        }

        internal MlpNetwork Network { get; }

        /// <summary>The model.zip entry's identity (never change signatures; evolve with the version numbers).</summary>
        internal abstract VersionInfo GetVersionInfoForSave();

        /// <summary>
        /// *** Binary format *** <c>int sizeof(float)</c> (base), then the network (<see cref="MlpNetwork"/>: loss,
        /// activation, layer sizes, weights and biases, CRC-32), then the training history.
        /// </summary>
        protected sealed override void SaveCore(ModelSaveContext ctx)
        {
            base.SaveCore(ctx);
            ctx.SetVersionInfo(GetVersionInfoForSave());
            Network.Save(ctx.Writer);
            MlpModelSerialization.WriteHistory(ctx.Writer, _history);
        }

        /// <summary>Width of every layer from input to output, e.g. <c>[784, 256, 128, 10]</c>.</summary>
        public IReadOnlyList<int> LayerSizes => Network.LayerSizes;

        /// <summary>The hidden layers' activation.</summary>
        public MlpActivation Activation => Network.Activation;

        /// <summary>Number of weights and biases.</summary>
        public long ParameterCount => Network.ParameterCount;

        /// <summary>One report per epoch that ran, including epochs after the best one when early stopping restored
        /// earlier weights (like scikit-learn's <c>loss_curve_</c> and <c>validation_scores_</c>).</summary>
        public IReadOnlyList<MlpEpochReport> TrainingHistory => _history;

        /// <summary>A copy of layer <paramref name="layer"/>'s weights, row-major <c>[in, out]</c>: element
        /// <c>i * out + j</c> connects input <c>i</c> to output <c>j</c>.</summary>
        public float[] GetWeights(int layer)
        {
            CheckLayer(layer);
            return Network.GetWeights(layer);
        }

        /// <summary>A copy of layer <paramref name="layer"/>'s biases (<c>out</c> values).</summary>
        public float[] GetBiases(int layer)
        {
            CheckLayer(layer);
            return Network.GetBiases(layer);
        }

        private void CheckLayer(int layer)
        {
            if (layer < 0 || layer >= Network.LayerCount)
                throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The network has {Network.LayerCount} layers (0 to {Network.LayerCount - 1}).");
        }

        /// <summary>The name of the output layer's loss, for <see cref="ToString"/>.</summary>
        private protected abstract string OutputDescription { get; }

        /// <summary>A one-line description: layer sizes, activation, output, parameter count, epochs trained.</summary>
        public override string ToString() =>
            $"MLP {string.Join("-", LayerSizes)} ({Activation}, {OutputDescription}), {ParameterCount} parameters, {_history.Length} epochs trained";

        DataViewType IValueMapper.InputType => _inputType;

        DataViewType IValueMapper.OutputType => OutputType;

        private protected abstract DataViewType OutputType { get; }

        ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
        {
            Host.Check(typeof(TIn) == typeof(VBuffer<float>), "Input type must be VBuffer<float>.");
            Host.Check(typeof(TOut) == typeof(TOutput), $"Output type must be {typeof(TOutput).Name}.");
            return (ValueMapper<TIn, TOut>)(Delegate)CreateMapper();
        }

        /// <summary>A fresh per-cursor mapper from features to <typeparamref name="TOutput"/>.</summary>
        private protected abstract Delegate CreateMapper();

        bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

        bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
        {
            Host.CheckValue(ctx, nameof(ctx));
            Host.CheckValue(outputNames, nameof(outputNames));
            SaveAsOnnxCore(ctx, outputNames, featureColumn);
            return true;
        }

        /// <summary>Adds this model to an ONNX graph: <paramref name="outputNames"/> are the scorer's outputs
        /// ([PredictedLabel, Score] for multiclass, [Score] for binary and regression).</summary>
        private protected abstract void SaveAsOnnxCore(OnnxContext ctx, string[] outputNames, string featureColumn);
    }
}
