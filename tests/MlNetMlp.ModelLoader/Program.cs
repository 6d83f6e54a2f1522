// usage: MlNetMlp.ModelLoader <model.zip> <rows.tsv> <scores.tsv>
// rows.tsv: one row per line, "label<TAB>f1,f2,..." (floats as 32-bit hex). scores.tsv: ScoredRows' format, so a
// test can compare bit for bit. Works for every MlNetMlp model kind without naming or registering any MlNetMlp type.
using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp.TestShared;

internal sealed class Row
{
    public string Label { get; set; }
    public float[] Features { get; set; }
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
            return new Row { Label = parts[0], Features = parts[1].Split(',').Select(ScoredRows.FromHex).ToArray() };
        }).ToArray();
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(args[0], out _);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        File.WriteAllLines(args[2], ScoredRows.Read(model.Transform(ml.Data.LoadFromEnumerable(rows, schema))));
        Console.WriteLine($"scored {rows.Length} rows with {model.GetType().Name}");
        return 0;
    }
}
