using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Tabular
{
    /// <summary>One fit of one trainer on one split.</summary>
    public sealed record RunResult(string Set, TaskKind Task, int Seed, string Trainer, bool IsMlp, double Error, double Seconds);

    /// <summary>The error each task reports: classification error, or RMSE divided by the test labels' standard deviation.</summary>
    public static class Evaluation
    {
        public static double Error(MLContext ml, TaskKind task, IDataView scored, IDataView test)
        {
            switch (task)
            {
                case TaskKind.Binary:
                    return 1 - ml.BinaryClassification.EvaluateNonCalibrated(scored).Accuracy;
                case TaskKind.Multiclass:
                    return 1 - ml.MulticlassClassification.Evaluate(scored).MicroAccuracy;
                default:
                    {
                        var labels = test.GetColumn<float>("Label").Select(v => (double)v).ToArray();
                        double mean = labels.Average();
                        double std = Math.Sqrt(labels.Sum(v => (v - mean) * (v - mean)) / labels.Length);
                        return ml.Regression.Evaluate(scored).RootMeanSquaredError / std;
                    }
            }
        }

        /// <summary>Writes "Label" (a key as its index from 0, a Boolean as 0/1) and "Features" as CSV rows.</summary>
        public static void Dump(IDataView data, string path)
        {
            var label = data.Schema["Label"];
            var features = data.Schema["Features"];
            using var cursor = data.GetRowCursor(new[] { label, features });
            Func<double> getLabel = label.Type switch
            {
                KeyDataViewType => Getter<uint>(cursor, label, v => v - 1.0),
                BooleanDataViewType => Getter<bool>(cursor, label, v => v ? 1 : 0),
                _ => Getter<float>(cursor, label, v => v),
            };
            var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
            VBuffer<float> f = default;
            using var writer = new System.IO.StreamWriter(path);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            while (cursor.MoveNext())
            {
                getFeatures(ref f);
                writer.WriteLine(getLabel().ToString("R", inv) + "," + string.Join(",", f.DenseValues().Select(v => v.ToString("R", inv))));
            }
        }

        private static Func<double> Getter<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, double> convert)
        {
            var get = cursor.GetGetter<T>(column);
            T value = default;
            return () => { get(ref value); return convert(value); };
        }

        /// <summary>Reads a cached view once, so that no trainer's fit time includes the featurization.</summary>
        public static void Touch(IDataView data)
        {
            using var cursor = data.GetRowCursor(data.Schema);
            while (cursor.MoveNext()) { }
        }
    }
}
