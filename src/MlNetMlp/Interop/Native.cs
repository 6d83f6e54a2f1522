using System;
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
                return $"The MlNetMlp native library '{NativeMethods.LibraryName}' could not be loaded for {RuntimeInformation.RuntimeIdentifier}. " +
                    "It is built by `dotnet build` (needs cmake and a C compiler) and copied next to MlNetMlp.dll; check that " +
                    $"the build succeeded and that the file is in the application folder. ({e.Message})";
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
                    throw new InvalidOperationException(message);
                default:
                    throw new InvalidOperationException($"MlNetMlp native error {status}: {message}");
            }
        }
    }
}
