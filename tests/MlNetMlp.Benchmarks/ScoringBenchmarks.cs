using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace MlNetMlp.Benchmarks
{
    /// <summary>Scoring a Fashion-MNIST-sized model (784 inputs, 10 classes) through ML.NET: a cursor over 10,000
    /// rows through <c>Transform</c>, and single rows through a <c>PredictionEngine</c>, for MlNetMlp's
    /// 784-256-128-10 MLP against LbfgsMaximumEntropy, SdcaMaximumEntropy and LightGbm in the same run. The models are trained
    /// briefly on random data: scoring cost does not depend on the weights.</summary>
    [SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 7)]
    public class ScoringBenchmarks
    {
        private const int Features = 784, Rows = 10_000;
        private MLContext _ml;
        private IDataView _data;
        private ITransformer _model;
        private PredictionEngine<Row, Scored> _engine;
        private Row[] _rows;

        [Params("LbfgsMaximumEntropy", "SdcaMaximumEntropy", "LightGbm", "MlNetMlp 784-256-128-10", "MlNetMlp 784-256-128-10 bf16")]
        public string Model { get; set; }

        public sealed class Row
        {
            public uint Label { get; set; }
            public float[] Features { get; set; }
        }

        public sealed class Scored
        {
            public float[] Score { get; set; }
        }

        [GlobalSetup]
        public void Setup()
        {
            _ml = new MLContext(seed: 1);
            var random = new Random(1);
            _rows = Enumerable.Range(0, Rows).Select(i => new Row
            {
                Label = (uint)(i % 10),
                Features = Enumerable.Range(0, Features).Select(_ => (float)random.NextDouble()).ToArray(),
            }).ToArray();
            var schema = SchemaDefinition.Create(typeof(Row));
            schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Features);
            schema["Label"].ColumnType = new KeyDataViewType(typeof(uint), 10);
            _data = _ml.Data.LoadFromEnumerable(_rows, schema);
            var train = _ml.Data.TakeRows(_data, 2000);
            IEstimator<ITransformer> trainer = Model switch
            {
                "LbfgsMaximumEntropy" => _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { MaximumNumberOfIterations = 3 }),
                "SdcaMaximumEntropy" => _ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { MaximumNumberOfIterations = 2 }),
                "LightGbm" => _ml.MulticlassClassification.Trainers.LightGbm(), // default 100 iterations: the size of a real model
                _ => _ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 256, 128 }, NumberOfEpochs = 1 }),
            };
            _model = trainer.Fit(train);
            // the same model scoring through bfloat16 weights (AVX512_BF16 only: elsewhere this throws, and the case fails)
            if (Model.EndsWith(" bf16", StringComparison.Ordinal))
                ((MulticlassPredictionTransformer<MlpModelParameters>)_model).Model.ScoringPrecision = MlpPrecision.BFloat16;
            _engine = _ml.Model.CreatePredictionEngine<Row, Scored>(_model, inputSchemaDefinition: schema);
        }

        /// <summary>All 10,000 rows through Transform (divide by 10,000 for the time per row).</summary>
        [Benchmark(Description = "Transform, 10,000 rows")]
        public float Transform()
        {
            var scored = _model.Transform(_data);
            var column = scored.Schema["Score"];
            using var cursor = scored.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> score = default;
            float sum = 0;
            while (cursor.MoveNext())
            {
                getter(ref score);
                sum += score.GetItemOrDefault(0);
            }
            return sum;
        }

        /// <summary>One row through a PredictionEngine.</summary>
        [Benchmark(Description = "PredictionEngine, 1 row")]
        public float PredictionEngine() => _engine.Predict(_rows[42]).Score[0];
    }
}
