using System;
using System.Linq;
using System.Threading;
using BenchmarkDotNet.Attributes;
using FashionMnist;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.LightGbm;

namespace MlNetMlp.Benchmarks
{
    /// <summary>Training on Fashion-MNIST: the whole Fit of each trainer with its defaults, one MLP epoch, and the MLP's
    /// time to reach a fixed test accuracy. The embedded subset (4,000 / 1,000 images) by default; set
    /// MLNETMLP_BENCH_FULL=1 for the installed full set (60,000 / 10,000; then LightGbm and L-BFGS take minutes).</summary>
    [SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
    public class TrainingBenchmarks
    {
        private MLContext _ml;
        private IDataView _train, _test;
        private bool _full;

        [Params("MlNetMlp MLP (default)", "LbfgsMaximumEntropy", "SdcaMaximumEntropy", "LightGbm")]
        public string Trainer { get; set; }

        [GlobalSetup]
        public void Setup()
        {
            _full = Environment.GetEnvironmentVariable("MLNETMLP_BENCH_FULL") == "1";
            var data = Dataset.Load(_full ? null : Dataset.EmbeddedDirectory);
            _ml = new MLContext(seed: 1);
            var prefix = _ml.Transforms.Conversion.MapValueToKey("Label").Append(_ml.Transforms.NormalizeMinMax("Features"));
            var train = Dataset.ToDataView(_ml, data.Train, 784);
            var fitted = prefix.Fit(train);
            // materialize once so that every trainer reads the same cached rows
            _train = _ml.Data.Cache(fitted.Transform(train));
            _test = _ml.Data.Cache(fitted.Transform(Dataset.ToDataView(_ml, data.Test, 784)));
        }

        private IEstimator<ITransformer> Create(int? epochs = null, Action<MlpEpochReport> callback = null, CancellationToken token = default) => Trainer switch
        {
            "LbfgsMaximumEntropy" => _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(),
            "SdcaMaximumEntropy" => _ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(),
            "LightGbm" => _ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options()),
            _ => _ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options
            {
                NumberOfEpochs = epochs ?? new MlpMulticlassTrainer.Options().NumberOfEpochs, EpochCallback = callback, CancellationToken = token,
            }),
        };

        [Benchmark(Description = "Fit (defaults)")]
        public ITransformer Fit() => Create().Fit(_train);

        /// <summary>One epoch of the default MLP (the built-in trainers have no epochs: skipped).</summary>
        [Benchmark(Description = "Fit, one MLP epoch")]
        public ITransformer OneEpoch() => Trainer.StartsWith("MlNetMlp") ? Create(epochs: 1).Fit(_train) : null;

        /// <summary>The default MLP until its test accuracy reaches 0.80 (subset) or 0.88 (full set), measured
        /// after every epoch (MLP only).</summary>
        [Benchmark(Description = "MLP time to accuracy 0.80 (subset) / 0.88 (full)")]
        public int TimeToAccuracy()
        {
            if (!Trainer.StartsWith("MlNetMlp"))
                return 0;
            double target = _full ? 0.88 : 0.80;
            using var cts = new CancellationTokenSource();
            int epochs = 0;
            var trainer = (MlpMulticlassTrainer)Create(callback: r => { epochs = r.Epoch; if (r.ValidationMetric >= target) cts.Cancel(); }, token: cts.Token);
            try
            {
                trainer.Fit(_train, _test);
            }
            catch (OperationCanceledException)
            {
            }
            return epochs;
        }
    }
}
