using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlNetMlp.Training;

namespace MlNetMlp
{
    /// <summary>What the MlNetMlp trainers share: validated options, capabilities, and the <c>Fit</c> overloads for
    /// validation data and warm start.</summary>
    /// <typeparam name="TTransformer">The prediction transformer <c>Fit</c> returns.</typeparam>
    /// <typeparam name="TModel">The trained model parameters.</typeparam>
    public abstract class MlpTrainerBase<TTransformer, TModel> : TrainerEstimatorBase<TTransformer, TModel>
        where TTransformer : ISingleFeaturePredictionTransformer<TModel>
        where TModel : class
    {
        private static readonly TrainerInfo _info = new TrainerInfo(normalization: false, caching: false, supportValid: true, supportIncrementalTrain: true);

        private protected MlpTrainerBase(IHostEnvironment env, string name, MlpTrainerOptionsBase options, Func<string, SchemaShape.Column> labelColumn)
            : base(Contracts.CheckRef(env, nameof(env)).Register(name),
                  TrainerUtils.MakeR4VecFeature(OptionsValidation.Checked(options).FeatureColumnName),
                  labelColumn(options.LabelColumnName),
                  TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
        {
            TrainerOptions = options;
        }

        internal MlpTrainerOptionsBase TrainerOptions { get; }

        /// <summary>Capabilities: no normalization needed (the trainer scales), no caching needed, supports validation
        /// data and warm start.</summary>
        public override TrainerInfo Info => _info;

        /// <summary>Trains with <paramref name="validationData"/> measured after every epoch (and used for early
        /// stopping when <see cref="MlpTrainerOptionsBase.EarlyStoppingPatience"/> is set).</summary>
        public TTransformer Fit(IDataView trainData, IDataView validationData)
        {
            Host.CheckValue(trainData, nameof(trainData));
            Host.CheckValue(validationData, nameof(validationData));
            return TrainTransformer(trainData, validationData);
        }

        /// <summary>Continues training from <paramref name="modelParameters"/> (same architecture and loss required).</summary>
        public TTransformer Fit(IDataView trainData, TModel modelParameters)
        {
            Host.CheckValue(trainData, nameof(trainData));
            Host.CheckValue(modelParameters, nameof(modelParameters)); // null would silently train from scratch
            return TrainTransformer(trainData, initPredictor: modelParameters as IPredictor);
        }
    }
}
