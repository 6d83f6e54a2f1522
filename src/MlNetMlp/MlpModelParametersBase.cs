using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Preprocessing;

using MlNetMlp.Interop;

namespace MlNetMlp
{
    /// <summary>What the three MlNetMlp models share: the network (layer sizes, activation, weights), the training
    /// history and the model.zip format. <typeparamref name="TOutput"/> is what one row scores to.</summary>
    public abstract class MlpModelParametersBase<TOutput> : ModelParametersBase<TOutput>, IValueMapper, ISingleCanSaveOnnx
    {
        private readonly MlpEpochReport[] _history;
        private readonly VectorDataViewType _inputType;

        /// <summary>The first format with the input preprocessing (earlier files have none: raw features in).</summary>
        internal const uint VersionWithPreprocessing = 0x00010002;

        internal MlpModelParametersBase(IHostEnvironment env, string name, MlpEnsemble ensemble, MlpPreprocessing preprocessing,
            IEnumerable<MlpEpochReport> history, float[] outputRange = null)
            : base(env, name)
        {
            Host.Check(outputRange == null || (outputRange.Length == 2 && outputRange[0] <= outputRange[1]), "An output range is [minimum, maximum].");
            OutputRange = outputRange;
            Host.CheckValue(ensemble, nameof(ensemble));
            Host.Check(preprocessing == null || preprocessing.Outputs == ensemble.First.InputCount, "The preprocessing does not match the network's inputs.");
            Ensemble = ensemble;
            Preprocessing = preprocessing;
            _history = history?.ToArray() ?? Array.Empty<MlpEpochReport>();
            _inputType = new VectorDataViewType(NumberDataViewType.Single, FeatureCount);
        }

        /// <summary>Reads the network, the history and (from <see cref="VersionWithPreprocessing"/> on) the
        /// preprocessing (see <see cref="SaveCore"/>); the stored loss must be one of <paramref name="expectedLosses"/>.</summary>
        internal MlpModelParametersBase(IHostEnvironment env, string name, ModelLoadContext ctx, int[] expectedLosses, string kind)
            : base(env, name, ctx)
        {
            try
            {
                var first = MlpNetwork.Load(ctx.Reader);
                _history = MlpModelSerialization.ReadHistory(ctx.Reader);
                Ensemble = new MlpEnsemble(new[] { first });
                if (ctx.Header.ModelVerWritten >= VersionWithPreprocessing)
                {
                    int present = ctx.Reader.ReadInt32();
                    if (present != 0 && present != 1)
                        throw MlpNetwork.Corrupt($"unknown preprocessing flag {present}");
                    if (present == 1)
                        Preprocessing = MlpPreprocessing.Load(ctx.Reader, first.InputCount);
                    Ensemble = MlpEnsemble.LoadOthers(ctx.Reader, first);
                    int ranged = ctx.Reader.ReadInt32();
                    if (ranged != 0 && ranged != 1)
                        throw MlpNetwork.Corrupt($"unknown output-range flag {ranged}");
                    if (ranged == 1)
                    {
                        OutputRange = new[] { ctx.Reader.ReadSingle(), ctx.Reader.ReadSingle() };
                        if (!float.IsFinite(OutputRange[0]) || !float.IsFinite(OutputRange[1]) || OutputRange[0] > OutputRange[1])
                            throw MlpNetwork.Corrupt("the output range is not an interval");
                    }
                }
            }
            catch (System.IO.EndOfStreamException)
            {
                throw MlpNetwork.Corrupt("the file is truncated");
            }
            if (Array.IndexOf(expectedLosses, Network.Loss) < 0)
                throw MlpNetwork.Corrupt($"the network is not a {kind} model");
            _inputType = new VectorDataViewType(NumberDataViewType.Single, FeatureCount);
        }

        /// <summary>The model's version info with the current format: signatures as given, and files written from
        /// 0x00010001 (network + training history) on readable.</summary>
        private protected static VersionInfo MakeVersionInfo(string modelSignature, string loaderSignature, System.Reflection.Assembly assembly) => new VersionInfo(
            modelSignature: modelSignature,
            verWrittenCur: VersionWithPreprocessing, // 0x00010002: + input preprocessing (imputation, indicators, robust scaling), ensemble members
            verReadableCur: VersionWithPreprocessing,
            verWeCanReadBack: 0x00010001, // network + training history
            loaderSignature: loaderSignature,
            loaderAssemblyName: assembly.FullName);

        /// <summary>The networks whose outputs the model averages (one for a plain MLP).</summary>
        internal MlpEnsemble Ensemble { get; }

        /// <summary>[minimum, maximum] every output is clamped to (regression: the training targets' range), or null.</summary>
        internal float[] OutputRange { get; }

        /// <summary>The first (or only) network.</summary>
        internal MlpNetwork Network => Ensemble.First;

        /// <summary>The number of networks whose outputs are averaged (<c>EnsembleSize</c> when trained).</summary>
        public int EnsembleSize => Ensemble.Count;

        /// <summary>The input transform, or null for a model written before it existed (raw features in).</summary>
        internal MlpPreprocessing Preprocessing { get; }

        /// <summary>The transform applied to the features before the first layer (fitted in training: imputation of
        /// missing values, missing indicators, and with <c>NormalizeFeatures</c> robust scaling), or null for a model
        /// saved by a release before 0.2, which feeds the features in as they are.</summary>
        public MlpInputPreprocessing InputPreprocessing => Preprocessing == null ? null
            : new MlpInputPreprocessing((float[])Preprocessing.Fill.Clone(), (float[])Preprocessing.Center.Clone(), (float[])Preprocessing.Scale.Clone(),
                Preprocessing.SmoothClip, (int[])Preprocessing.IndicatorColumns.Clone());

        /// <summary>Length of the feature vector the model reads.</summary>
        internal int FeatureCount => Preprocessing?.Inputs ?? Network.InputCount;

        private long _imputedAtScoring;

        /// <summary>Missing (NaN or infinite) feature values this model has imputed while scoring, in this process.</summary>
        public long ImputedValuesAtScoring => System.Threading.Interlocked.Read(ref _imputedAtScoring);

        internal void CountImputed(long count) => System.Threading.Interlocked.Add(ref _imputedAtScoring, count);

        /// <summary>The model.zip entry's identity (never change signatures; evolve with the version numbers).</summary>
        internal abstract VersionInfo GetVersionInfoForSave();

        /// <summary>
        /// *** Binary format *** <c>int sizeof(float)</c> (base), then the network (<see cref="MlpNetwork"/>: loss,
        /// activation, layer sizes, weights and biases, CRC-32), then the training history, then (format 0x00010002)
        /// int 1 and the input preprocessing (<see cref="MlpPreprocessing"/>, CRC-32), or int 0 for none, then the
        /// member count and the ensemble's further networks (<see cref="MlpEnsemble"/>), then int 1 and float minimum,
        /// maximum of the output clamp, or int 0.
        /// </summary>
        protected sealed override void SaveCore(ModelSaveContext ctx)
        {
            base.SaveCore(ctx);
            ctx.SetVersionInfo(GetVersionInfoForSave());
            Network.Save(ctx.Writer);
            MlpModelSerialization.WriteHistory(ctx.Writer, _history);
            // A model loaded from an 0x00010001 file has none and keeps scoring raw features after a save.
            ctx.Writer.Write(Preprocessing != null ? 1 : 0);
            Preprocessing?.Save(ctx.Writer);
            Ensemble.SaveOthers(ctx.Writer);
            ctx.Writer.Write(OutputRange != null ? 1 : 0);
            if (OutputRange != null)
            {
                ctx.Writer.Write(OutputRange[0]);
                ctx.Writer.Write(OutputRange[1]);
            }
        }

        /// <summary>Width of every layer from input to output, e.g. <c>[784, 256, 128, 10]</c>. The input width is the
        /// preprocessing's output: the features plus one missing indicator per column that had missing values in training.</summary>
        public IReadOnlyList<int> LayerSizes => Network.LayerSizes;

        /// <summary>The hidden layers' activation.</summary>
        public MlpActivation Activation => Network.Activation;

        /// <summary>Number of weights and biases (of all ensemble members).</summary>
        public long ParameterCount => Network.ParameterCount * Ensemble.Count;

        /// <summary>How this model scores. <see cref="MlpPrecision.Float32"/> (the default). <see cref="MlpPrecision.BFloat16"/>:
        /// through bfloat16 copies of the weights of the layers wider than 16 in and out (half the bytes a row streams;
        /// float32 accumulation, biases and activations), so scores differ from the float32 ones by bfloat16 rounding
        /// (about 1% of a score's magnitude); a row still scores the same alone as in a batch. A runtime setting, not
        /// saved in model.zip (which keeps float32 weights): set it after training or loading, while no other thread
        /// scores with the model (prediction engines created earlier follow the change). Needs AVX512_BF16 (AMD Zen 4 and Zen 5, Intel Sapphire
        /// Rapids): elsewhere setting <see cref="MlpPrecision.BFloat16"/> throws <see cref="NotSupportedException"/>.</summary>
        public MlpPrecision ScoringPrecision
        {
            get => Network.ScoringPrecision;
            set
            {
                if (!Enum.IsDefined(value))
                    throw new ArgumentOutOfRangeException(nameof(value), value, "ScoringPrecision: unknown precision.");
                if (value == MlpPrecision.BFloat16 && NativeMethods.mlp_has_bfloat16() == 0)
                    throw new NotSupportedException("ScoringPrecision BFloat16 needs AVX512_BF16, which this CPU lacks (or MLNETMLP_ISA " +
                        "caps the kernels below AVX-512): keep Float32.");
                foreach (var member in Ensemble.Members)
                    member.ScoringPrecision = value;
            }
        }

        /// <summary>One report per epoch that ran, including epochs after the best one when early stopping restored
        /// earlier weights (like scikit-learn's <c>loss_curve_</c> and <c>validation_scores_</c>).</summary>
        public IReadOnlyList<MlpEpochReport> TrainingHistory => _history;

        /// <summary>A copy of layer <paramref name="layer"/>'s weights, row-major <c>[in, out]</c>: element
        /// <c>i * out + j</c> connects input <c>i</c> to output <c>j</c>.</summary>
        public float[] GetWeights(int layer) => GetWeights(layer, 0);

        /// <summary>A copy of ensemble member <paramref name="member"/>'s weights of layer <paramref name="layer"/>.</summary>
        public float[] GetWeights(int layer, int member)
        {
            CheckLayer(layer);
            return Member(member).GetWeights(layer);
        }

        /// <summary>A copy of layer <paramref name="layer"/>'s biases (<c>out</c> values).</summary>
        public float[] GetBiases(int layer) => GetBiases(layer, 0);

        /// <summary>A copy of ensemble member <paramref name="member"/>'s biases of layer <paramref name="layer"/>.</summary>
        public float[] GetBiases(int layer, int member)
        {
            CheckLayer(layer);
            return Member(member).GetBiases(layer);
        }

        private MlpNetwork Member(int member)
        {
            if (member < 0 || member >= Ensemble.Count)
                throw new ArgumentOutOfRangeException(nameof(member), member, $"The model has {Ensemble.Count} ensemble members (0 to {Ensemble.Count - 1}).");
            return Ensemble.Members[member];
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
            $"MLP {string.Join("-", LayerSizes)} ({Activation}, {OutputDescription}){(Ensemble.Count > 1 ? $" x {Ensemble.Count} averaged" : "")}, " +
            $"{ParameterCount} parameters, {_history.Length} epochs trained";

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
