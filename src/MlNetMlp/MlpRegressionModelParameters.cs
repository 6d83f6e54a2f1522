using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Runtime;
using MlNetMlp;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

[assembly: LoadableClass(typeof(MlpRegressionModelParameters), null, typeof(SignatureLoadModel),
    "MlNetMlp regression MLP", MlpRegressionModelParameters.LoaderSignature)]

namespace MlNetMlp
{
    /// <summary>A trained regression multilayer perceptron: scores each row to the predicted value (in the label's
    /// units), the <c>Score</c> column.</summary>
    public sealed class MlpRegressionModelParameters : MlpScalarModelParametersBase
    {
        internal const string LoaderSignature = "MlNetMlpRegressionExec";
        private const string RegistrationName = "MlpRegressionModelParameters";

        private static VersionInfo GetVersionInfo() => MakeVersionInfo("MLPREGRS", LoaderSignature, typeof(MlpRegressionModelParameters).Assembly);

        internal MlpRegressionModelParameters(IHostEnvironment env, MlpEnsemble ensemble, MlpPreprocessing preprocessing, IEnumerable<MlpEpochReport> history, float[] outputRange = null)
            : base(env, RegistrationName, ensemble, preprocessing, history, outputRange)
        {
        }

        private MlpRegressionModelParameters(IHostEnvironment env, ModelLoadContext ctx)
            : base(env, RegistrationName, ctx, new[] { NativeMethods.LossSquared, NativeMethods.LossHuber }, "regression")
        {
        }

        internal static MlpRegressionModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            Contracts.CheckValue(env, nameof(env));
            env.CheckValue(ctx, nameof(ctx));
            ctx.CheckAtModel(GetVersionInfo());
            return new MlpRegressionModelParameters(env, ctx);
        }

        internal override VersionInfo GetVersionInfoForSave() => GetVersionInfo();

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.Regression;

        /// <summary>The interval predictions are clamped to (the training labels' range, with
        /// <see cref="MlpRegressionTrainer.Options.ClampPredictions"/>), or null.</summary>
        public (float Minimum, float Maximum)? PredictionRange => OutputRange == null ? null : (OutputRange[0], OutputRange[1]);

        /// <summary>The loss the network was trained with.</summary>
        public MlpRegressionLoss LossFunction => Network.Loss == NativeMethods.LossHuber ? MlpRegressionLoss.Huber : MlpRegressionLoss.Squared;

        private protected override string OutputDescription => LossFunction == MlpRegressionLoss.Huber ? "linear output, Huber loss" : "linear output";
    }
}
