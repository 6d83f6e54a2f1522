using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp;

namespace FashionMnist
{
    /// <summary>Trains each chosen trainer on the same split and measures it.</summary>
    public sealed class Comparison
    {
        private readonly MLContext _ml;
        private readonly Dataset _data;
        private readonly SampleOptions _options;
        private readonly TextWriter _output;
        private readonly IDataView _train, _test;
        private readonly int _featureCount;

        /// <summary>Prepares the data views once for every trainer.</summary>
        public Comparison(MLContext ml, Dataset data, SampleOptions options, TextWriter output)
        {
            _ml = ml;
            _data = data;
            _options = options;
            _output = output;
            _featureCount = data.Train[0].Features.Length;
            _train = Dataset.ToDataView(ml, data.Train, _featureCount);
            _test = Dataset.ToDataView(ml, data.Test, _featureCount);
        }

        /// <summary>The test data view.</summary>
        public IDataView Test => _test;

        /// <summary>The training data view (its schema is saved with each model).</summary>
        public IDataView Train => _train;

        /// <summary>Trains, evaluates, saves and times <paramref name="choice"/>.</summary>
        public TrainerResult Run(TrainerChoice choice)
        {
            _output.WriteLine($"== {choice.Display}");
            var history = new List<MlpEpochReport>();
            void Progress(MlpEpochReport r)
            {
                history.Add(r);
                double eta = r.Elapsed.TotalSeconds / r.Epoch * (r.NumberOfEpochs - r.Epoch);
                _output.WriteLine($"   epoch {r.Epoch,3}/{r.NumberOfEpochs}  loss {r.TrainingLoss:F4}  test loss {r.ValidationLoss:F4}  " +
                    $"test accuracy {r.ValidationMetric:F4}  lr {r.LearningRate:G3}  {r.Elapsed.TotalSeconds,6:F1} s  ETA {eta,5:F1} s");
            }

            var clock = Stopwatch.StartNew();
            var prefix = _ml.Transforms.Conversion.MapValueToKey("Label").Append(_ml.Transforms.NormalizeMinMax("Features")).Fit(_train);
            var trainer = choice.Create(_ml, _options, Progress);
            ITransformer predictor;
            if (trainer is MlpMulticlassTrainer mlp)
            {
                // The test set is passed as validation data only to draw learning curves: with the cosine schedule
                // and early stopping off it never influences training.
                predictor = mlp.Fit(prefix.Transform(_train), prefix.Transform(_test));
            }
            else
            {
                _output.WriteLine("   training (no progress reports from this trainer)...");
                predictor = trainer.Fit(prefix.Transform(_train));
            }
            var model = prefix.Append(predictor).Append(_ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(predictor.Transform(prefix.Transform(_test))));
            var trainingTime = clock.Elapsed;
            _output.WriteLine($"   trained in {trainingTime.TotalSeconds:F1} s");

            var metrics = _ml.MulticlassClassification.Evaluate(model.Transform(_test));
            var modelPath = Path.Combine(_options.OutputDirectory, "models", choice.Name + ".zip");
            Directory.CreateDirectory(Path.GetDirectoryName(modelPath));
            _ml.Model.Save(model, _train.Schema, modelPath);
            var result = new TrainerResult
            {
                Trainer = choice,
                TrainingTime = trainingTime,
                Metrics = metrics,
                ModelBytes = new FileInfo(modelPath).Length,
                TransformRowsPerSecond = TransformThroughput(model),
                PredictionEngineRowsPerSecond = EngineThroughput(model),
                History = history,
                Model = model,
                ModelPath = modelPath,
            };
            _output.WriteLine($"   test micro accuracy {metrics.MicroAccuracy:F4}, macro {metrics.MacroAccuracy:F4}, log-loss {metrics.LogLoss:F4}; " +
                $"scoring {result.TransformRowsPerSecond:N0} rows/s (Transform), {result.PredictionEngineRowsPerSecond:N0} rows/s (PredictionEngine)");
            return result;
        }

        /// <summary>Rows/s of a cursor that reads Score for every test row (best of three passes).</summary>
        private double TransformThroughput(ITransformer model)
        {
            double best = 0;
            for (int pass = 0; pass < 3; pass++)
            {
                var scored = model.Transform(_test);
                var clock = Stopwatch.StartNew();
                long rows = 0;
                using (var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] }))
                {
                    var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
                    VBuffer<float> score = default;
                    while (cursor.MoveNext())
                    {
                        getScore(ref score);
                        rows++;
                    }
                }
                best = Math.Max(best, rows / clock.Elapsed.TotalSeconds);
            }
            return best;
        }

        /// <summary>Rows/s of a PredictionEngine over the first test rows, one at a time (after a warm-up).</summary>
        private double EngineThroughput(ITransformer model)
        {
            var engine = _ml.Model.CreatePredictionEngine<ImageRow, ImagePrediction>(model, inputSchemaDefinition: Dataset.SchemaFor(_featureCount));
            int count = Math.Min(2000, _data.Test.Length);
            for (int i = 0; i < Math.Min(100, count); i++)
                engine.Predict(_data.Test[i]);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
                engine.Predict(_data.Test[i]);
            return count / clock.Elapsed.TotalSeconds;
        }
    }

    /// <summary>The columns read back from a scored row.</summary>
    public sealed class ImagePrediction
    {
        /// <summary>Class name of the most probable class.</summary>
        public string PredictedLabel { get; set; }

        /// <summary>Class probabilities (or scores).</summary>
        public float[] Score { get; set; }
    }
}
