using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNetMlp.Tests
{
    /// <summary>A row with a string label and a known-size feature vector.</summary>
    public sealed class LabeledRow
    {
        public string Label { get; set; }
        public float[] Features { get; set; }
    }

    /// <summary>A row with a Boolean label.</summary>
    public sealed class BinaryRow
    {
        public bool Label { get; set; }
        public float[] Features { get; set; }
    }

    /// <summary>A row with a real-valued label.</summary>
    public sealed class RegressionRow
    {
        public float Label { get; set; }
        public float[] Features { get; set; }
    }

    /// <summary>Scored output read back from a binary pipeline.</summary>
    public sealed class BinaryPrediction
    {
        public bool PredictedLabel { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
    }

    /// <summary>Scored output read back from a multiclass pipeline.</summary>
    public sealed class MulticlassPrediction
    {
        public string PredictedLabel { get; set; }
        public float[] Score { get; set; }
    }

    /// <summary>Only the Score column (when PredictedLabel stays a key).</summary>
    public sealed class ScoreOnly
    {
        public float[] Score { get; set; }
    }

    internal static class TestData
    {
        /// <summary>Two concentric rings (inner: "inner", radius &lt; 1; outer: "outer", radius in [1.5, 2.5]) plus
        /// <paramref name="noiseFeatures"/> uniform noise features. No linear model separates them.</summary>
        internal static LabeledRow[] Rings(int count, int seed, int noiseFeatures = 0)
        {
            var random = new Random(seed);
            var rows = new LabeledRow[count];
            for (int i = 0; i < count; i++)
            {
                bool outer = i % 2 == 1;
                double radius = outer ? 1.5 + random.NextDouble() : random.NextDouble();
                double angle = random.NextDouble() * 2 * Math.PI;
                var features = new float[2 + noiseFeatures];
                features[0] = (float)(radius * Math.Cos(angle));
                features[1] = (float)(radius * Math.Sin(angle));
                for (int j = 2; j < features.Length; j++)
                    features[j] = (float)random.NextDouble();
                rows[i] = new LabeledRow { Label = outer ? "outer" : "inner", Features = features };
            }
            return rows;
        }

        /// <summary>Gaussian blobs around <paramref name="classes"/> random centres in <paramref name="dims"/> dimensions.</summary>
        internal static LabeledRow[] Blobs(int count, int classes, int dims, int seed, double spread = 0.5)
        {
            var random = new Random(seed);
            var centres = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, dims).Select(__ => random.NextDouble() * 4 - 2).ToArray()).ToArray();
            return Enumerable.Range(0, count).Select(i =>
            {
                int c = i % classes;
                var f = centres[c].Select(m => (float)(m + spread * Gaussian(random))).ToArray();
                return new LabeledRow { Label = "class" + c, Features = f };
            }).ToArray();
        }

        internal static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        /// <summary>Rings as a binary problem: outer ring = true.</summary>
        internal static BinaryRow[] BinaryRings(int count, int seed) =>
            Rings(count, seed).Select(r => new BinaryRow { Label = r.Label == "outer", Features = r.Features }).ToArray();

        /// <summary>y = 1000 sin(2 x0) x1 + 5000 + noise: non-linear, with a large offset and scale.</summary>
        internal static RegressionRow[] Wave(int count, int seed, double noise = 10)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, count).Select(_ =>
            {
                double x0 = random.NextDouble() * 2 - 1, x1 = random.NextDouble() * 2 - 1;
                return new RegressionRow
                {
                    Label = (float)(1000 * Math.Sin(2 * x0) * x1 + 5000 + noise * Gaussian(random)),
                    Features = new[] { (float)x0, (float)x1 },
                };
            }).ToArray();
        }

        /// <summary>Every member's weights and biases, layer by layer, in one array (to compare models bit for bit).</summary>
        internal static float[] AllWeights(MlpModelParameters model) =>
            Enumerable.Range(0, model.EnsembleSize).SelectMany(m =>
                Enumerable.Range(0, model.LayerSizes.Count - 1).SelectMany(l => model.GetWeights(l, m).Concat(model.GetBiases(l, m)))).ToArray();

        internal static SchemaDefinition Schema<T>(int featureCount)
        {
            var schema = SchemaDefinition.Create(typeof(T));
            schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
            return schema;
        }

        internal static IDataView ToDataView<T>(MLContext ml, IEnumerable<T> rows, int featureCount) where T : class
            => ml.Data.LoadFromEnumerable(rows, Schema<T>(featureCount));

        internal static SchemaDefinition Schema(int featureCount)
        {
            var schema = SchemaDefinition.Create(typeof(LabeledRow));
            schema[nameof(LabeledRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
            return schema;
        }

        /// <summary>ML.NET's internal SchemaShape.Create: what a pipeline passes to GetOutputSchema.</summary>
        internal static SchemaShape Shape(DataViewSchema schema) =>
            (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                .Invoke(null, new object[] { schema });

        internal static IDataView ToDataView(MLContext ml, IEnumerable<LabeledRow> rows, int featureCount)
            => ml.Data.LoadFromEnumerable(rows, Schema(featureCount));
    }
}
