using System;
using System.Runtime.InteropServices;

namespace MlNetMlp.Interop
{
    /// <summary>Owns a native <c>mlp_network</c>; released by <c>mlp_network_destroy</c>.</summary>
    internal sealed class NetworkHandle : SafeHandle
    {
        public NetworkHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.mlp_network_destroy(handle) == NativeMethods.StatusOk;
    }

    /// <summary>Owns a native <c>mlp_preprocessor</c>; released by <c>mlp_preprocessor_destroy</c>.</summary>
    internal sealed class PreprocessorHandle : SafeHandle
    {
        public PreprocessorHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.mlp_preprocessor_destroy(handle) == NativeMethods.StatusOk;
    }

    /// <summary>Owns a native <c>mlp_trainer</c>. The trainer points into its network, so it keeps a reference on
    /// the network handle until it is released.</summary>
    internal sealed class TrainerHandle : SafeHandle
    {
        private NetworkHandle _network;

        public TrainerHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Called once after creation: the network may not be freed before this trainer.</summary>
        internal void KeepAlive(NetworkHandle network)
        {
            bool added = false;
            network.DangerousAddRef(ref added);
            if (added)
                _network = network;
        }

        protected override bool ReleaseHandle()
        {
            bool ok = NativeMethods.mlp_trainer_destroy(handle) == NativeMethods.StatusOk;
            _network?.DangerousRelease();
            return ok;
        }
    }
}
