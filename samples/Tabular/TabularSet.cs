using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Tabular
{
    /// <summary>The kind of prediction a set asks for.</summary>
    public enum TaskKind
    {
        Binary,
        Multiclass,
        Regression,
    }

    /// <summary>One table of the suite as a new ML.NET user would load it: a CSV through <c>TextLoader</c>, numeric
    /// columns as Single (an empty field is NaN), categorical ones as text, one-hot encoded, all concatenated into
    /// <c>Features</c>; no normalizer.</summary>
    public sealed class TabularSet
    {
        private TabularSet(string name, TaskKind task, string label, string[] header, HashSet<string> categorical, string path)
        {
            Name = name;
            Task = task;
            LabelColumn = label;
            Path = path;
            Categorical = header.Where(c => c != label && categorical.Contains(c)).ToArray();
            Numeric = header.Where(c => c != label && !categorical.Contains(c)).ToArray();
            Header = header;
        }

        public string Name { get; }
        public TaskKind Task { get; }
        public string LabelColumn { get; }
        public string Path { get; }
        public string[] Header { get; }
        public string[] Numeric { get; }
        public string[] Categorical { get; }

        /// <summary>The sets listed in <c>suite.tsv</c> (written by <c>scripts/mlbench-export.py</c>).</summary>
        public static IReadOnlyList<TabularSet> ReadSuite(string dir)
        {
            var sets = new List<TabularSet>();
            foreach (var line in File.ReadAllLines(System.IO.Path.Combine(dir, "suite.tsv")))
            {
                var f = line.Split('\t');
                var task = Enum.Parse<TaskKind>(f[1], ignoreCase: true);
                var path = System.IO.Path.Combine(dir, f[0] + ".csv");
                var header = File.ReadLines(path).First().Split(',').Select(h => h.Trim('"')).ToArray();
                var categorical = new HashSet<string>(f.Length > 3 && f[3].Length > 0 ? f[3].Split(',') : Array.Empty<string>());
                sets.Add(new TabularSet(f[0], task, f[2], header, categorical, path));
            }
            return sets;
        }

        /// <summary>The raw table: "Label" (text, or Single for regression), "Num" (the numeric columns), and one text
        /// column per categorical column.</summary>
        public IDataView Load(MLContext ml)
        {
            var columns = new List<TextLoader.Column>();
            int Index(string c) => Array.IndexOf(Header, c);
            columns.Add(new TextLoader.Column("Label", Task == TaskKind.Regression ? DataKind.Single : DataKind.String, Index(LabelColumn)));
            if (Numeric.Length > 0)
                columns.Add(new TextLoader.Column("Num", DataKind.Single, Numeric.Select(c => new TextLoader.Range(Index(c))).ToArray()));
            foreach (var c in Categorical)
                columns.Add(new TextLoader.Column(CategoricalName(c), DataKind.String, Index(c)));
            var loader = ml.Data.CreateTextLoader(new TextLoader.Options
            {
                Columns = columns.ToArray(),
                Separators = new[] { ',' },
                HasHeader = true,
                AllowQuoting = true,
                MissingRealsAsNaNs = true,
            });
            return loader.Load(Path);
        }

        private static string CategoricalName(string column) => "cat_" + column;

        /// <summary>Distinct label values in file order (binary: the second sorted value is the positive class).</summary>
        public string[] LabelValues(IDataView data)
        {
            var values = new SortedSet<string>(StringComparer.Ordinal);
            using var cursor = data.GetRowCursor(new[] { data.Schema["Label"] });
            var get = cursor.GetGetter<ReadOnlyMemory<char>>(data.Schema["Label"]);
            ReadOnlyMemory<char> v = default;
            while (cursor.MoveNext())
            {
                get(ref v);
                values.Add(v.ToString());
            }
            return values.ToArray();
        }

        /// <summary>Label conversion plus the featurizer: one-hot of every categorical column, concatenated after the
        /// numeric ones into "Features". <paramref name="numericScale"/> multiplies the numeric columns first (the
        /// scale-invariance check); <paramref name="normalize"/> inserts <c>NormalizeMeanVariance</c> on them.</summary>
        public IEstimator<ITransformer> Featurizer(MLContext ml, string[] labelValues, double numericScale = 1, bool normalize = false)
        {
            IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
            if (Task == TaskKind.Binary)
            {
                if (labelValues.Length != 2)
                    throw new InvalidOperationException($"{Name}: a binary set needs two label values, found {labelValues.Length}.");
                var map = new[]
                {
                    new KeyValuePair<ReadOnlyMemory<char>, bool>(labelValues[0].AsMemory(), false),
                    new KeyValuePair<ReadOnlyMemory<char>, bool>(labelValues[1].AsMemory(), true),
                };
                pipeline = pipeline.Append(ml.Transforms.Conversion.MapValue("Label", map, "Label"));
            }
            else if (Task == TaskKind.Multiclass)
                pipeline = pipeline.Append(ml.Transforms.Conversion.MapValueToKey("Label"));
            var parts = new List<string>();
            if (Numeric.Length > 0)
            {
                if (numericScale != 1)
                {
                    float s = (float)numericScale;
                    var schema = SchemaDefinition.Create(typeof(NumRow));
                    schema[nameof(NumRow.Num)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Numeric.Length);
                    pipeline = pipeline.Append(ml.Transforms.CustomMapping<NumRow, NumRow>(
                        (src, dst) => dst.Num = src.Num.Select(v => v * s).ToArray(), null, schema, schema));
                }
                if (normalize)
                    pipeline = pipeline.Append(ml.Transforms.NormalizeMeanVariance("Num"));
                parts.Add("Num");
            }
            if (Categorical.Length > 0)
            {
                pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding(
                    Categorical.Select(c => new InputOutputColumnPair(CategoricalName(c) + "_onehot", CategoricalName(c))).ToArray()));
                parts.AddRange(Categorical.Select(c => CategoricalName(c) + "_onehot"));
            }
            return pipeline.Append(ml.Transforms.Concatenate("Features", parts.ToArray()));
        }

        /// <summary>The numeric vector, for the scaling mapping.</summary>
        public sealed class NumRow
        {
            [VectorType]
            public float[] Num { get; set; }
        }
    }
}
