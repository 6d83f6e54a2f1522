// The package consumer of scripts/check-package.sh, check-windows.sh and check-arm64.sh: references MlNetMlp
// from a local feed, like a user's app.
//   train <dir> [epochs]  trains the three trainers (default options, 40 epochs) on generated data, saves
//                  <dir>/{multiclass,binary,regression}.zip and writes their scores on a fixed set of rows to <dir>/train-scores.txt
//   score <dir>    loads the three model.zip files (a new process), scores the same rows to <dir>/score-scores.txt,
//                  and fails unless they equal the training process's scores bit for bit
//   compare <a> <b> [tolerance]   compares two score files (e.g. Linux against Windows): predicted labels must be
//                  equal and scores within the tolerance (default 1e-5); prints whether they are bit-identical
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp;

var ml = new MLContext(seed: 1);
switch (args.Length > 0 ? args[0] : "")
{
    case "train": return Train(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 40);
    case "score": return Score(args[1]);
    case "compare": return Compare(args[1], args[2], args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 1e-5);
    default:
        Console.Error.WriteLine("usage: Consumer train <dir> [epochs] | score <dir> | compare <file-a> <file-b> [tolerance]");
        return 2;
}

int Train(string dir, int epochs)
{
    Directory.CreateDirectory(dir);
    string kernels = "?"; // the trainer logs the native kernel set it runs on
    ml.Log += (_, e) =>
    {
        int at = e.Message.IndexOf("native kernels: ", StringComparison.Ordinal);
        if (at >= 0) kernels = e.Message[(at + "native kernels: ".Length)..].TrimEnd('.');
    };
    var data = ml.Data.LoadFromEnumerable(Rows(800, seed: 1), Row.Schema());
    var multiclass = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Class))
        .Append(ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { NumberOfEpochs = epochs }))
        .Fit(data);
    var binary = ml.BinaryClassification.Trainers.Mlp(new MlpBinaryTrainer.Options { LabelColumnName = nameof(Row.Positive), NumberOfEpochs = epochs })
        .Fit(data);
    var regression = ml.Regression.Trainers.Mlp(new MlpRegressionTrainer.Options { LabelColumnName = nameof(Row.Target), NumberOfEpochs = epochs })
        .Fit(data);
    ml.Model.Save(multiclass, data.Schema, Path.Combine(dir, "multiclass.zip"));
    ml.Model.Save(binary, data.Schema, Path.Combine(dir, "binary.zip"));
    ml.Model.Save(regression, data.Schema, Path.Combine(dir, "regression.zip"));
    var test = ml.Data.LoadFromEnumerable(Rows(300, seed: 2), Row.Schema());
    Console.WriteLine($"multiclass: accuracy {ml.MulticlassClassification.Evaluate(multiclass.Transform(test)).MicroAccuracy:F4}");
    Console.WriteLine($"binary:     accuracy {ml.BinaryClassification.Evaluate(binary.Transform(test), nameof(Row.Positive)).Accuracy:F4}");
    Console.WriteLine($"regression: R^2 {ml.Regression.Evaluate(regression.Transform(test), nameof(Row.Target)).RSquared:F4}");
    File.WriteAllLines(Path.Combine(dir, "train-scores.txt"), ScoreLines(multiclass, binary, regression, test).ToArray());
    Console.WriteLine($"trained and saved 3 models in {dir} (native kernels: {kernels})");
    return 0;
}

int Score(string dir)
{
    var test = ml.Data.LoadFromEnumerable(Rows(300, seed: 2), Row.Schema());
    var lines = ScoreLines(ml.Model.Load(Path.Combine(dir, "multiclass.zip"), out _), ml.Model.Load(Path.Combine(dir, "binary.zip"), out _),
                           ml.Model.Load(Path.Combine(dir, "regression.zip"), out _), test).ToArray();
    File.WriteAllLines(Path.Combine(dir, "score-scores.txt"), lines);
    var trained = File.ReadAllLines(Path.Combine(dir, "train-scores.txt"));
    if (!trained.SequenceEqual(lines))
    {
        Console.Error.WriteLine("the reloaded models score differently from the models that were saved");
        return 1;
    }
    Console.WriteLine($"loaded 3 models in a new process: {lines.Length} score lines equal to the training process's, bit for bit");
    return 0;
}

int Compare(string a, string b, double tolerance)
{
    string[] x = File.ReadAllLines(a), y = File.ReadAllLines(b);
    if (x.Length != y.Length) { Console.Error.WriteLine($"{a} has {x.Length} lines, {b} {y.Length}"); return 1; }
    double worst = 0;
    int differentValues = 0;
    for (int i = 0; i < x.Length; i++)
    {
        string[] u = x[i].Split(' '), v = y[i].Split(' ');
        if (u[0] != v[0] || u[1] != v[1] || u.Length != v.Length)
        {
            Console.Error.WriteLine($"line {i + 1}: '{x[i]}' against '{y[i]}' (different predicted label)");
            return 1;
        }
        for (int j = 2; j < u.Length; j++)
        {
            float p = BitConverter.Int32BitsToSingle(int.Parse(u[j], NumberStyles.HexNumber)), q = BitConverter.Int32BitsToSingle(int.Parse(v[j], NumberStyles.HexNumber));
            differentValues += u[j] != v[j] ? 1 : 0;
            worst = Math.Max(worst, Math.Abs((double)p - q));
        }
    }
    Console.WriteLine($"{x.Length} rows: predicted labels equal; scores {(differentValues == 0 ? "bit-identical" : $"differ in {differentValues} values, largest difference {worst:G3}")}");
    if (worst > tolerance) { Console.Error.WriteLine($"largest score difference {worst:G3} exceeds {tolerance:G3}"); return 1; }
    return 0;
}

// One line per row and model: model, predicted label, then every score as the hex of its float bits.
IEnumerable<string> ScoreLines(ITransformer multiclass, ITransformer binary, ITransformer regression, IDataView test)
{
    var m = multiclass.Transform(test);
    var predicted = m.GetColumn<uint>("PredictedLabel").ToArray();
    var scores = m.GetColumn<float[]>("Score").ToArray();
    for (int i = 0; i < predicted.Length; i++)
        yield return $"multiclass {predicted[i]} " + string.Join(' ', scores[i].Select(Hex));
    var b = binary.Transform(test);
    var labels = b.GetColumn<bool>("PredictedLabel").ToArray();
    var bScores = b.GetColumn<float>("Score").ToArray();
    var probabilities = b.GetColumn<float>("Probability").ToArray();
    for (int i = 0; i < labels.Length; i++)
        yield return $"binary {labels[i]} {Hex(bScores[i])} {Hex(probabilities[i])}";
    foreach (var s in regression.Transform(test).GetColumn<float>("Score"))
        yield return $"regression - {Hex(s)}";
}

static string Hex(float f) => BitConverter.SingleToInt32Bits(f).ToString("x8", CultureInfo.InvariantCulture);

// Generated with arithmetic only (no Math.Sin or Exp, whose last bit differs between C runtimes), so that every
// platform trains on the same bits.
static IEnumerable<Row> Rows(int count, int seed)
{
    var random = new Random(seed);
    for (int i = 0; i < count; i++)
    {
        var f = new float[6];
        for (int j = 0; j < f.Length; j++) f[j] = (float)(random.NextDouble() * 4 - 2);
        float radius = f[0] * f[0] + f[1] * f[1], wave = f[2] * f[3] - 0.5f * f[4];
        yield return new Row
        {
            Features = f,
            Class = radius < 1.2f ? "inner" : wave > 0 ? "upper" : "lower",
            Positive = radius + 0.7f * f[5] > 2.0f,
            Target = radius - 2 * wave + 0.3f * f[5] * f[5],
        };
    }
}

sealed class Row
{
    public float[] Features { get; set; } = Array.Empty<float>();
    public string Class { get; set; } = "";
    public bool Positive { get; set; }
    public float Target { get; set; }

    public static SchemaDefinition Schema()
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 6);
        return schema;
    }
}
