using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model;
using Microsoft.ML.Runtime;
using MlNetMlp;
using MlNetMlp.Interop;
using MlNetMlp.Preprocessing;

[assembly: LoadableClass(typeof(MlpBinaryModelParameters), null, typeof(SignatureLoadModel),
    "MlNetMlp binary MLP", MlpBinaryModelParameters.LoaderSignature)]

namespace MlNetMlp
{
    /// <summary>A trained binary multilayer perceptron: scores each row to the output unit's raw value (a logit for
    /// log-loss, a margin for hinge), the <c>Score</c> column. The trainer wraps it with a calibrator that produces
    /// <c>Probability</c>.</summary>
    public sealed class MlpBinaryModelParameters : MlpScalarModelParametersBase
    {
        internal const string LoaderSignature = "MlNetMlpBinaryExec";
        private const string RegistrationName = "MlpBinaryModelParameters";

        private static VersionInfo GetVersionInfo() => MakeVersionInfo("MLPBINRY", LoaderSignature, typeof(MlpBinaryModelParameters).Assembly);

        internal MlpBinaryModelParameters(IHostEnvironment env, MlpEnsemble ensemble, MlpPreprocessing preprocessing, IEnumerable<MlpEpochReport> history)
            : base(env, RegistrationName, ensemble, preprocessing, history)
        {
        }

        private MlpBinaryModelParameters(IHostEnvironment env, ModelLoadContext ctx)
            : base(env, RegistrationName, ctx, new[] { NativeMethods.LossSigmoidLogLoss, NativeMethods.LossHinge }, "binary")
        {
        }

        internal static MlpBinaryModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            Contracts.CheckValue(env, nameof(env));
            env.CheckValue(ctx, nameof(ctx));
            ctx.CheckAtModel(GetVersionInfo());
            return new MlpBinaryModelParameters(env, ctx);
        }

        internal override VersionInfo GetVersionInfoForSave() => GetVersionInfo();

        /// <summary>The loss the network was trained with.</summary>
        public MlpBinaryLoss LossFunction => Network.Loss == NativeMethods.LossHinge ? MlpBinaryLoss.Hinge : MlpBinaryLoss.LogLoss;

        /// <inheritdoc/>
        protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

        private protected override string OutputDescription => LossFunction == MlpBinaryLoss.Hinge ? "hinge margin" : "logit";
    }
}
