using System;
using System.IO;
using MlNetMlp.Interop;
using NUnit.Framework;

namespace MlNetMlp.Tests
{
    public sealed unsafe class NativeInteropTests
    {
        [Test]
        public void AbiVersionMatchesTheManagedDeclarations()
        {
            Native.EnsureLoaded();
            Assert.That(NativeMethods.mlp_abi_version(), Is.EqualTo(NativeMethods.AbiVersion));
            Assert.That(sizeof(NativeMethods.TrainConfig), Is.EqualTo(88), "mlp_train_config layout");
            Assert.That(sizeof(NativeMethods.Csr), Is.EqualTo(40), "mlp_csr layout");
            Assert.That(sizeof(NativeMethods.PreprocessSpec), Is.EqualTo(48), "mlp_preprocess_spec layout");
        }

        [Test]
        public void ALoadFailureNamesTheRidAndTheLibrariesFound()
        {
            var dir = Path.Combine(Path.GetTempPath(), "mlnetmlp-load-" + Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(Path.Combine(dir, "runtimes", "linux-x64", "native"));
                File.WriteAllText(Path.Combine(dir, "runtimes", "linux-x64", "native", "libmlnetmlp.so"), "");
                File.WriteAllText(Path.Combine(dir, "MlNetMlp.dll"), "");
                var message = Native.DescribeLoadFailure("osx-arm64", dir, "dlopen failed");
                StringAssert.Contains("for osx-arm64", message);
                StringAssert.Contains("looked for libmlnetmlp.dylib", message);
                StringAssert.Contains("found runtimes/linux-x64/native/libmlnetmlp.so.", message);
                StringAssert.DoesNotContain("MlNetMlp.dll", message, "the managed assembly is not a native library");
                StringAssert.Contains("(dlopen failed)", message);
                StringAssert.Contains("libmlnetmlp.dll", Native.DescribeLoadFailure("win-x64", dir, ""));
                StringAssert.Contains("found no native MlNetMlp library", Native.DescribeLoadFailure("linux-arm64", Path.Combine(dir, "runtimes"), ""));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Test]
        public void IsaIsOneOfTheKnownKernelSets()
        {
            Assert.That(Native.Isa, Is.AnyOf("avx512", "avx2", "generic"));
        }

        [Test]
        public void InvalidArgumentBecomesArgumentExceptionWithTheNativeMessage()
        {
            var a = new float[4];
            fixed (float* p = a)
            {
                int status = NativeMethods.mlp_sgemm(2, 0, 2, 2, 2, 1, p, 2, p, 2, 0, p, 2);
                var e = Assert.Throws<ArgumentException>(() => Native.Check(status));
                Assert.That(e.Message, Does.Contain("trans_a must be 0 (none) or 1 (transpose), got 2"));
                status = NativeMethods.mlp_sgemm(0, 0, 2, 2, 3, 1, p, 2, p, 2, 0, p, 2);
                e = Assert.Throws<ArgumentException>(() => Native.Check(status));
                Assert.That(e.Message, Does.Contain("leading dimension of A is 2 but must be at least 3"));
            }
        }

        [Test]
        public void OtherStatusesMapToTheirExceptions()
        {
            Assert.Throws<OutOfMemoryException>(() => Native.Check(NativeMethods.StatusOutOfMemory));
            Assert.Throws<InvalidOperationException>(() => Native.Check(NativeMethods.StatusNotFinite));
            var e = Assert.Throws<InvalidOperationException>(() => Native.Check(99));
            Assert.That(e.Message, Does.Contain("native error 99"));
            Assert.DoesNotThrow(() => Native.Check(NativeMethods.StatusOk));
        }

        [Test]
        public void ThreadCountCanBeSetAndRestored()
        {
            int original = NativeMethods.mlp_get_num_threads();
            try
            {
                Native.Check(NativeMethods.mlp_set_num_threads(3));
                Assert.That(NativeMethods.mlp_get_num_threads(), Is.EqualTo(3));
                Assert.Throws<ArgumentException>(() => Native.Check(NativeMethods.mlp_set_num_threads(100_000)));
            }
            finally
            {
                Native.Check(NativeMethods.mlp_set_num_threads(0));
            }
            Assert.That(NativeMethods.mlp_get_num_threads(), Is.EqualTo(original).Or.EqualTo(Environment.ProcessorCount));
        }
    }
}
