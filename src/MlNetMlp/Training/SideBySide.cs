using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace MlNetMlp.Training
{
    /// <summary>Parallel.For for ensemble members that rethrows the first member's exception as itself (a cancellation
    /// stays an <see cref="OperationCanceledException"/>, a divergence the trainer's own exception), not wrapped in an
    /// <see cref="AggregateException"/>.</summary>
    internal static class SideBySide
    {
        internal static void For(int count, ParallelOptions options, Action<int> body)
        {
            try
            {
                Parallel.For(0, count, options, body);
            }
            catch (AggregateException e)
            {
                ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
                throw; // not reached
            }
        }
    }
}
