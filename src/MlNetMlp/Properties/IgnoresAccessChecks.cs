using System.Runtime.CompilerServices;

// MlNetMlp compiles against publicized ML.NET references (see build/Publicize.targets); these two
// attributes let the runtime honour that access to ML.NET internals. Both are required: without Core,
// TypeLoadException (inaccessible interface); without Data, "overriding a method that is not visible".
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: InternalsVisibleTo("MlNetMlp.Tests")]
[assembly: InternalsVisibleTo("MlNetMlp.Benchmarks")]

namespace System.Runtime.CompilerServices
{
    /// <summary>Recognised by the runtime (not the compiler): skips access checks into the named assembly.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        public string AssemblyName { get; }
    }
}
