using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    /// <summary>Models exported with <c>ConvertToOnnx</c> and run by ONNX Runtime give ML.NET's predictions.</summary>
    public sealed class OnnxExportTests
    {
        private static (Dictionary<string, float[]> Outputs, int Rows) RunOnnx(MLContext ml, ITransformer model, IDataView data, float[][] features,
            Func<string, NodeMetadata, int, NamedOnnxValue> labels)
        {
            using var stream = new MemoryStream();
            ml.Model.ConvertToOnnx(model, data, stream);
            using var session = new InferenceSession(stream.ToArray());
            int rows = features.Length, width = features[0].Length;
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(features.SelectMany(f => f).ToArray(), new[] { rows, width })),
            };
            // The exported graph also takes the other input columns (passed through): feed them what the data holds.
            foreach (var (name, meta) in session.InputMetadata.Where(i => i.Key != "Features"))
                inputs.Add(labels(name, meta, rows));
            using var results = session.Run(inputs);
            var outputs = new Dictionary<string, float[]>();
            foreach (var r in results)
            {
                string name = r.Name.Split('.')[0];
                outputs[name] = r.Value switch
                {
                    Tensor<float> f => f.ToArray(),
                    Tensor<uint> u => u.ToArray().Select(v => (float)v).ToArray(),
                    Tensor<bool> b => b.ToArray().Select(v => v ? 1f : 0f).ToArray(),
                    Tensor<long> l => l.ToArray().Select(v => (float)v).ToArray(),
                    _ => outputs.GetValueOrDefault(name),
                };
            }
            return (outputs, rows);
        }

        [TestCase(MlpActivation.Relu)]
        [TestCase(MlpActivation.Tanh)]
        [TestCase(MlpActivation.LeakyRelu)]
        [TestCase(MlpActivation.Sigmoid)]
        [TestCase(MlpActivation.Selu)]
        public void MulticlassModelRunsInOnnxRuntimeWithTheSameResults(MlpActivation activation)
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(300, classes: 4, dims: 8, seed: 3, spread: 1.2);
            var data = TestData.ToDataView(ml, rows, 8);
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 16, 12 }, NumberOfEpochs = 5, Activation = activation,
            }).Fit(keyed);
            var scored = ml.Data.CreateEnumerable<KeyedPrediction>(model.Transform(keyed), false).ToArray();
            // The key-typed label goes in as its original strings (ML.NET exports the key mapping).
            var (onnx, n) = RunOnnx(ml, model, keyed, rows.Select(r => r.Features).ToArray(),
                (name, meta, count) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<string>(rows.Select(r => r.Label).ToArray(), new[] { count, 1 })));

            var score = onnx["Score"];
            var label = onnx["PredictedLabel"];
            for (int i = 0; i < n; i++)
            {
                Assert.That(label[i], Is.EqualTo((float)scored[i].PredictedLabel), $"row {i} label");
                for (int c = 0; c < 4; c++)
                    Assert.That(score[i * 4 + c], Is.EqualTo(scored[i].Score[c]).Within(1e-5), $"row {i} class {c}");
            }
        }

        [Test]
        public void MissingValuesIndicatorsAndAnEnsembleRunInOnnxRuntimeWithTheSameResults()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Blobs(300, classes: 3, dims: 5, seed: 8, spread: 1.0);
            for (int i = 0; i < rows.Length; i += 5) rows[i].Features[1] = float.NaN;           // an indicator column
            for (int i = 2; i < rows.Length; i += 11) rows[i].Features[3] = float.PositiveInfinity; // another
            foreach (var r in rows) r.Features[0] *= 1e6f;                                          // raw units
            var data = TestData.ToDataView(ml, rows, 5);
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
            var model = ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options
            {
                HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 8, EnsembleSize = 2,
            }).Fit(keyed);
            Assert.That(model.Model.InputPreprocessing.MissingIndicatorColumns, Is.EqualTo(new[] { 1, 3 }));
            // scoring rows also with NaN where training had none (column 4): imputed the same way by both
            var features = rows.Select((r, i) => i % 7 == 3 ? r.Features.Select((v, j) => j == 4 ? float.NaN : v).ToArray() : r.Features).ToArray();
            var scoringRows = rows.Select((r, i) => new LabeledRow { Label = r.Label, Features = features[i] }).ToArray();
            var scoringData = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(TestData.ToDataView(ml, scoringRows, 5));
            var scored = ml.Data.CreateEnumerable<KeyedPrediction>(model.Transform(scoringData), false).ToArray();
            var (onnx, n) = RunOnnx(ml, model, keyed, features,
                (name, meta, count) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<string>(rows.Select(r => r.Label).ToArray(), new[] { count, 1 })));
            for (int i = 0; i < n; i++)
            {
                Assert.That(onnx["PredictedLabel"][i], Is.EqualTo((float)scored[i].PredictedLabel), $"row {i} label");
                for (int c = 0; c < 3; c++)
                    Assert.That(onnx["Score"][i * 3 + c], Is.EqualTo(scored[i].Score[c]).Within(1e-5), $"row {i} class {c}");
            }
        }

        [TestCase(MlpBinaryLoss.LogLoss)]
        [TestCase(MlpBinaryLoss.Hinge)]
        public void BinaryModelRunsInOnnxRuntimeWithTheSameResults(MlpBinaryLoss loss)
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.BinaryRings(300, 2);
            var data = TestData.ToDataView(ml, rows, 2);
            var model = ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 5, LossFunction = loss }).Fit(data);
            var scored = ml.Data.CreateEnumerable<BinaryPrediction>(model.Transform(data), false).ToArray();
            var (onnx, n) = RunOnnx(ml, model, data, rows.Select(r => r.Features).ToArray(),
                (name, meta, count) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(rows.Select(r => r.Label).ToArray(), new[] { count, 1 })));
            for (int i = 0; i < n; i++)
            {
                Assert.That(onnx["Score"][i], Is.EqualTo(scored[i].Score).Within(1e-5), $"row {i} score");
                Assert.That(onnx["Probability"][i], Is.EqualTo(scored[i].Probability).Within(1e-5), $"row {i} probability");
                Assert.That(onnx["PredictedLabel"][i] == 1f, Is.EqualTo(scored[i].PredictedLabel), $"row {i} label");
            }
        }

        [Test]
        public void RegressionModelRunsInOnnxRuntimeWithTheSameResults()
        {
            var ml = new MLContext(seed: 1);
            var rows = TestData.Wave(300, 2);
            var data = TestData.ToDataView(ml, rows, 2);
            var model = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 5 }).Fit(data);
            var scored = ml.Data.CreateEnumerable<RegressionPrediction>(model.Transform(data), false).ToArray();
            var (onnx, n) = RunOnnx(ml, model, data, rows.Select(r => r.Features).ToArray(),
                (name, meta, count) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(rows.Select(r => r.Label).ToArray(), new[] { count, 1 })));
            for (int i = 0; i < n; i++)
                Assert.That(onnx["Score"][i], Is.EqualTo(scored[i].Score).Within(1e-5 * Math.Max(1, Math.Abs(scored[i].Score))), $"row {i}");
        }

        public sealed class KeyedPrediction
        {
            public uint PredictedLabel { get; set; }
            public float[] Score { get; set; }
        }

        public sealed class RegressionPrediction
        {
            public float Score { get; set; }
        }
    }
}
