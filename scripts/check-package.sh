#!/usr/bin/env bash
# Packs MlNetMlp, restores the package from a local folder feed into a fresh consumer project, trains and saves a
# model.zip in one process and loads and scores it in another.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/build/package-check
rm -rf "$dir"
mkdir -p "$dir/feed" "$dir/consumer"
dotnet pack src/MlNetMlp -c Release -o "$dir/feed" -v quiet
package=$(ls "$dir/feed"/MlNetMlp.*.nupkg)
version=$(basename "$package" .nupkg | sed 's/^MlNetMlp\.//')
unzip -l "$package" | grep -E "lib/net10.0/MlNetMlp.dll|lib/net10.0/MlNetMlp.xml|runtimes/linux-x64/native/libmlnetmlp.so|README.md|LICENSE" | wc -l | grep -qx 5 \
  || { echo "package layout is incomplete:"; unzip -l "$package"; exit 1; }

cat > "$dir/consumer/nuget.config" <<XML
<configuration>
  <packageSources>
    <add key="local" value="$dir/feed" />
  </packageSources>
</configuration>
XML
cat > "$dir/consumer/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="MlNetMlp" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$dir/consumer/Program.cs" <<'CS'
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNetMlp;

var ml = new MLContext(seed: 1);
var random = new Random(1);
var rows = Enumerable.Range(0, 600).Select(i =>
{
    double r = i % 2 == 0 ? random.NextDouble() : 1.5 + random.NextDouble(), a = random.NextDouble() * 2 * Math.PI;
    return new Row { Label = i % 2 == 0 ? "inner" : "outer", Features = new[] { (float)(r * Math.Cos(a)), (float)(r * Math.Sin(a)) } };
}).ToArray();
var schema = SchemaDefinition.Create(typeof(Row));
schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
var data = ml.Data.LoadFromEnumerable(rows, schema);
if (args[0] == "train")
{
    var model = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.MulticlassClassification.Trainers.Mlp(new MlpMulticlassTrainer.Options { HiddenLayerSizes = new[] { 16 }, NumberOfEpochs = 30, BatchSize = 32, LearningRate = 0.01f }))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
        .Fit(data);
    ml.Model.Save(model, data.Schema, args[1]);
    Console.WriteLine($"trained: accuracy {ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy:F3}");
}
else
{
    var model = ml.Model.Load(args[1], out _);
    var accuracy = ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy;
    Console.WriteLine($"loaded in a new process: accuracy {accuracy:F3}");
    if (accuracy < 0.9) return 1;
}
return 0;

sealed class Row
{
    public string Label { get; set; } = "";
    public float[] Features { get; set; } = Array.Empty<float>();
}
CS

export NUGET_PACKAGES=$dir/packages   # a fresh cache: the package just built, nothing stale
cd "$dir/consumer"
dotnet build -c Release -v quiet -nologo
dotnet bin/Release/net10.0/Consumer.dll train "$dir/model.zip"
dotnet bin/Release/net10.0/Consumer.dll score "$dir/model.zip"
test -f bin/Release/net10.0/runtimes/linux-x64/native/libmlnetmlp.so || ls -R bin/Release/net10.0 | head
echo "package check passed: $(basename "$package")"
