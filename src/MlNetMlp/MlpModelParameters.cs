using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Runtime;
using MlNetMlp;
using Microsoft.ML.Model.OnnxConverter;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;
using MlNetMlp.Onnx;
using MlNetMlp.Training;

[assembly: LoadableClass(typeof(MlpModelParameters), null, typeof(SignatureLoadModel),
    "MlNetMlp multiclass MLP", MlpModelParameters.LoaderSignature)]

namespace MlNetMlp
{
    /// <summary>A trained multiclass multilayer perceptron: scores each row to the class probabilities (softmax of the
    /// output layer), the <c>Score</c> column. Saved to and loaded from model.zip like any ML.NET model.</summary>
    public sealed class MlpModelParameters : MlpModelParametersBase<VBuffer<float>>
    {
        internal const string LoaderSignature = "MlNetMlpMulticlassExec";
        private const string RegistrationName = "MlpModelParameters";

        private static VersionInfo GetVersionInfo() => MakeVersionInfo("MLPMULTI", LoaderSignature, typeof(MlpModelParameters).Assembly);

        private readonly VectorDataViewType _outputType;

        internal MlpModelParameters(IHostEnvironment env, MlpEnsemble ensemble, MlpPreprocessing preprocessing, IEnumerable<MlpEpochReport> history)
            : base(env, RegistrationName, ensemble, preprocessing, history)
        {
            _outputType = new VectorDataViewType(NumberDataViewType.Single, ensemble.First.OutputCount);
        }

        private MlpModelParameters(IHostEnvironment env, ModelLoadContext ctx)
            : base(env, RegistrationName, ctx, new[] { NativeMethods.LossSoftmaxCrossEntropy }, "multiclass")
        {
            _outputType = new VectorDataViewType(NumberDataViewType.Single, Network.OutputCount);
        }

        internal static MlpModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            Contracts.CheckValue(env, nameof(env));
            env.CheckValue(ctx, nameof(ctx));
            ctx.CheckAtModel(GetVersionInfo());
            return new MlpModelParameters(env, ctx);
        }

        internal override VersionInfo GetVersionInfoForSave() => GetVersionInfo();

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

        private protected override string OutputDescription => "softmax";

        private protected override DataViewType OutputType => _outputType;

        private protected override void SaveAsOnnxCore(OnnxContext ctx, string[] outputNames, string featureColumn)
        {
            Host.Check(outputNames.Length == 2, "Expected the PredictedLabel and Score outputs.");
            MlpOnnxExport.AddMulticlass(ctx, Ensemble, outputNames, MlpOnnxExport.AddPreprocessing(ctx, Preprocessing, featureColumn));
        }

        private protected override Delegate CreateMapper()
        {
            var scorer = new RowScorer(Ensemble, Preprocessing, CountImputed, Host, NativeMethods.OutputProbability);
            return (ValueMapper<VBuffer<float>, VBuffer<float>>)scorer.MapVector;
        }
    }
}
