// usage: MlNetMlp.ModelLoader <model.zip> <rows.tsv> <scores.tsv>
// rows.tsv: one row per line, "label<TAB>f1,f2,..." (floats as 32-bit hex). scores.tsv: one line per row,
// "PredictedLabel<TAB>s1,s2,..." with the Score column as 32-bit hex, so a test can compare bit for bit.
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

internal sealed class Row
{
    public string Label { get; set; }
    public float[] Features { get; set; }
}

internal sealed class Scored
{
    public string PredictedLabel { get; set; }
    public float[] Score { get; set; }
}

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: MlNetMlp.ModelLoader <model.zip> <rows.tsv> <scores.tsv>");
            return 2;
        }
        var rows = File.ReadAllLines(args[1]).Select(line =>
        {
            var parts = line.Split('\t');
            return new Row { Label = parts[0], Features = parts[1].Split(',').Select(FromHex).ToArray() };
        }).ToArray();
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(args[0], out var inputSchema);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        var scored = ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(rows, schema)), reuseRowObject: false);
        File.WriteAllLines(args[2], scored.Select(s => s.PredictedLabel + "\t" + string.Join(",", s.Score.Select(ToHex))));
        Console.WriteLine($"scored {rows.Length} rows with {model.GetType().Name}");
        return 0;
    }

    private static float FromHex(string s) => BitConverter.Int32BitsToSingle(int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    private static string ToHex(float f) => BitConverter.SingleToInt32Bits(f).ToString("X8", CultureInfo.InvariantCulture);
}
