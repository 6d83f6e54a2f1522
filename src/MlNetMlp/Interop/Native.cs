using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace MlNetMlp.Interop
{
    /// <summary>Entry point to the native library: loads it once, checks its ABI version, and maps statuses
    /// to exceptions that carry the native message.</summary>
    internal static class Native
    {
        private static readonly Lazy<string> _loadError = new Lazy<string>(Probe);

        /// <summary>Throws a clear exception unless the native library is present and ABI-compatible.</summary>
        internal static void EnsureLoaded()
        {
            var error = _loadError.Value;
            if (error != null)
                throw new InvalidOperationException(error);
        }

        private static string Probe()
        {
            int version;
            try
            {
                version = NativeMethods.mlp_abi_version();
            }
            catch (DllNotFoundException e)
            {
                return DescribeLoadFailure(RuntimeInformation.RuntimeIdentifier, AppContext.BaseDirectory, e.Message);
            }
            catch (BadImageFormatException e)
            {
                return DescribeLoadFailure(RuntimeInformation.RuntimeIdentifier, AppContext.BaseDirectory, e.Message);
            }
            catch (EntryPointNotFoundException e)
            {
                return $"The library '{NativeMethods.LibraryName}' that was loaded is not the MlNetMlp native library ({e.Message}).";
            }
            if (version != NativeMethods.AbiVersion)
                return $"The MlNetMlp native library has ABI version {version} but MlNetMlp.dll expects {NativeMethods.AbiVersion}; " +
                    "the two come from different builds. Rebuild the solution so that both are updated together.";
            return null;
        }

        /// <summary>The message for a native library that could not be loaded: the RID and file looked for, the
        /// native libraries that are there (in the application folder and under runtimes/), and what to do.</summary>
        internal static string DescribeLoadFailure(string rid, string baseDirectory, string detail)
        {
            string file = NativeFileName(rid);
            var found = new List<string>();
            if (Directory.Exists(baseDirectory))
            {
                foreach (var path in Directory.EnumerateFiles(baseDirectory, "*mlnetmlp*", SearchOption.TopDirectoryOnly))
                {
                    var name = Path.GetFileName(path);
                    if (!name.StartsWith("MlNetMlp.", StringComparison.Ordinal)) // the managed assembly and its docs
                        found.Add(name);
                }
                var runtimes = Path.Combine(baseDirectory, "runtimes");
                if (Directory.Exists(runtimes))
                    foreach (var path in Directory.EnumerateFiles(runtimes, "*mlnetmlp*", SearchOption.AllDirectories))
                        found.Add(Path.GetRelativePath(baseDirectory, path).Replace('\\', '/'));
            }
            found.Sort(StringComparer.Ordinal);
            return $"The MlNetMlp native library could not be loaded for {rid}: looked for {file} in {baseDirectory} " +
                $"(and runtimes/{rid}/native/); found {(found.Count == 0 ? "no native MlNetMlp library" : string.Join(", ", found))}. " +
                "The MlNetMlp package ships libraries for linux-x64, linux-arm64 and win-x64 and builds one from its sources " +
                "during `dotnet build` on other platforms (needs cmake and a C compiler on the build machine); a library built " +
                $"for another platform cannot be loaded here. ({detail})";
        }

        private static string NativeFileName(string rid) =>
            rid.StartsWith("win", StringComparison.Ordinal) ? NativeMethods.LibraryName + ".dll"
            : rid.StartsWith("osx", StringComparison.Ordinal) ? NativeMethods.LibraryName + ".dylib"
            : NativeMethods.LibraryName + ".so";

        /// <summary>The native kernel set in use ("avx512", "avx2" or "generic").</summary>
        internal static string Isa
        {
            get
            {
                EnsureLoaded();
                return Marshal.PtrToStringUTF8(NativeMethods.mlp_isa());
            }
        }

        /// <summary>The last native error message on this thread.</summary>
        internal static string LastError => Marshal.PtrToStringUTF8(NativeMethods.mlp_last_error_message()) ?? "";

        /// <summary>The key under which <see cref="Check"/> records a non-finite status in the exception's
        /// <see cref="Exception.Data"/> (the training loop tells a diverged step from other failures by it).</summary>
        internal const string StatusKey = "MlNetMlp.NativeStatus";

        /// <summary>True for the exception of a native step that refused a non-finite loss or gradient.</summary>
        internal static bool IsNotFinite(Exception e) => e.Data[StatusKey] is int s && s == NativeMethods.StatusNotFinite;

        /// <summary>Throws when <paramref name="status"/> is not OK: invalid arguments become
        /// <see cref="ArgumentException"/>, out-of-memory <see cref="OutOfMemoryException"/>, non-finite numbers
        /// <see cref="InvalidOperationException"/>.</summary>
        internal static void Check(int status)
        {
            if (status == NativeMethods.StatusOk)
                return;
            var message = LastError;
            switch (status)
            {
                case NativeMethods.StatusInvalidArgument:
                    throw new ArgumentException(message);
                case NativeMethods.StatusOutOfMemory:
                    throw new OutOfMemoryException(message);
                case NativeMethods.StatusNotFinite:
                    throw new InvalidOperationException(message) { Data = { [StatusKey] = status } };
                default:
                    throw new InvalidOperationException($"MlNetMlp native error {status}: {message}");
            }
        }
    }
}
