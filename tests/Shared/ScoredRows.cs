using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNetMlp.TestShared
{
    /// <summary>Scored rows as text, bit-exact: "PredictedLabel TAB Score TAB Probability" with floats as 32-bit hex
    /// (Score a scalar or a comma-separated vector; absent columns empty). Shared by the tests and the loader process.</summary>
    public static class ScoredRows
    {
        public static List<string> Read(IDataView scored)
        {
            var score = scored.Schema["Score"];
            var label = scored.Schema.GetColumnOrNull("PredictedLabel");
            var probability = scored.Schema.GetColumnOrNull("Probability");
            var active = new List<DataViewSchema.Column> { score };
            if (label.HasValue) active.Add(label.Value);
            if (probability.HasValue) active.Add(probability.Value);
            using var cursor = scored.GetRowCursor(active);
            Func<string> getScore = score.Type is VectorDataViewType ? VectorGetter(cursor, score) : ScalarGetter(cursor, score);
            Func<string> getLabel = label.HasValue ? TextGetter(cursor, label.Value) : () => "";
            Func<string> getProbability = probability.HasValue ? ScalarGetter(cursor, probability.Value) : () => "";
            var lines = new List<string>();
            while (cursor.MoveNext())
                lines.Add(getLabel() + "\t" + getScore() + "\t" + getProbability());
            return lines;
        }

        public static float FromHex(string s) => BitConverter.Int32BitsToSingle(int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

        public static string ToHex(float f) => BitConverter.SingleToInt32Bits(f).ToString("X8", CultureInfo.InvariantCulture);

        private static Func<string> VectorGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
        {
            var get = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> value = default;
            return () =>
            {
                get(ref value);
                return string.Join(",", value.DenseValues().Select(ToHex));
            };
        }

        private static Func<string> ScalarGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
        {
            var get = cursor.GetGetter<float>(column);
            float value = 0;
            return () =>
            {
                get(ref value);
                return ToHex(value);
            };
        }

        private static Func<string> TextGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
        {
            if (column.Type is BooleanDataViewType)
            {
                var get = cursor.GetGetter<bool>(column);
                bool value = false;
                return () => { get(ref value); return value ? "true" : "false"; };
            }
            if (column.Type is KeyDataViewType)
            {
                var get = cursor.GetGetter<uint>(column);
                uint value = 0;
                return () => { get(ref value); return value.ToString(CultureInfo.InvariantCulture); };
            }
            var text = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> t = default;
            return () => { text(ref t); return t.ToString(); };
        }
    }
}
