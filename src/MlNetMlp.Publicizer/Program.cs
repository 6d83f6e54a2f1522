// Usage: MlNetMlp.Publicizer <output-dir> <assembly.dll>...
// Writes each assembly to <output-dir> with every type, method and field made visible to other
// assemblies: top-level types public, nested types nested-public, `private protected` members
// `protected` (so they can be overridden), other non-public members public, and the "strict"
// (check access on override) flag cleared. Name, version and public key are kept, so the result
// is a drop-in compile-time reference; at run time the real assembly is loaded and
// IgnoresAccessChecksTo lets the calls through.
using Mono.Cecil;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MlNetMlp.Publicizer <output-dir> <assembly.dll>...");
    return 2;
}

var outputDir = args[0];
Directory.CreateDirectory(outputDir);
foreach (var input in args.Skip(1))
{
    if (!File.Exists(input))
    {
        Console.Error.WriteLine($"error: assembly '{input}' does not exist");
        return 1;
    }
    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input))!);
    using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver });
    var changed = 0;
    foreach (var module in assembly.Modules)
        foreach (var type in module.GetTypes())
            changed += Publicize(type);
    var output = Path.Combine(outputDir, Path.GetFileName(input));
    assembly.Write(output);
    Console.WriteLine($"publicized {changed} members of {assembly.Name.Name} -> {output}");
}
return 0;

static int Publicize(TypeDefinition type)
{
    var changed = 0;
    if (type.IsNested && !type.IsNestedPublic)
    {
        type.IsNestedPublic = true;
        changed++;
    }
    else if (!type.IsNested && !type.IsPublic)
    {
        type.IsPublic = true;
        changed++;
    }
    foreach (var method in type.Methods)
    {
        if (method.IsCheckAccessOnOverride)
            method.IsCheckAccessOnOverride = false;
        if (method.IsFamilyAndAssembly)
        {
            method.IsFamily = true; // private protected -> protected: overridable as `protected override`
            changed++;
        }
        else if (method.IsAssembly || method.IsPrivate)
        {
            method.IsPublic = true;
            changed++;
        }
    }
    foreach (var field in type.Fields)
    {
        if (!field.IsPublic && !field.IsFamily && !field.IsFamilyOrAssembly)
        {
            field.IsPublic = true;
            changed++;
        }
    }
    return changed;
}
