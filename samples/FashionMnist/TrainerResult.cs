using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp;

namespace FashionMnist
{
    /// <summary>What the comparison measured for one trainer; every number comes from the actual run.</summary>
    public sealed class TrainerResult
    {
        /// <summary>The trainer.</summary>
        public TrainerChoice Trainer { get; init; }

        /// <summary>Wall-clock time of Fit (normalizer and key mapping included).</summary>
        public TimeSpan TrainingTime { get; init; }

        /// <summary>Test-set metrics.</summary>
        public MulticlassClassificationMetrics Metrics { get; init; }

        /// <summary>Size of the saved model.zip in bytes.</summary>
        public long ModelBytes { get; init; }

        /// <summary>Scoring rows/s through <c>Transform</c> (cursor over the test set).</summary>
        public double TransformRowsPerSecond { get; init; }

        /// <summary>Scoring rows/s through a <c>PredictionEngine</c> (one row at a time).</summary>
        public double PredictionEngineRowsPerSecond { get; init; }

        /// <summary>Epoch reports (MlNetMlp trainers only; empty otherwise).</summary>
        public IReadOnlyList<MlpEpochReport> History { get; init; } = Array.Empty<MlpEpochReport>();

        /// <summary>The fitted pipeline.</summary>
        public ITransformer Model { get; init; }

        /// <summary>Where model.zip was written.</summary>
        public string ModelPath { get; init; }
    }
}
