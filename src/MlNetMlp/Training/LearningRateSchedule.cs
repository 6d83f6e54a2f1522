using System;

namespace MlNetMlp.Training
{
    /// <summary>The learning rate over the course of training (see <see cref="MlpLearningRateSchedule"/>).</summary>
    internal sealed class LearningRateSchedule
    {
        internal const int PlateauPatience = 2;
        private const double PlateauFactor = 0.5, PlateauFloor = 1e-3, PlateauTolerance = 1e-4;

        private readonly MlpLearningRateSchedule _kind;
        private readonly float _initial;
        private readonly long _totalSteps;
        private long _step;
        private float _applied;
        private double _best = double.PositiveInfinity;
        private int _epochsWithoutImprovement;

        internal LearningRateSchedule(MlpTrainerOptionsBase options, long totalSteps)
        {
            _kind = options.LearningRateSchedule;
            _initial = options.LearningRate;
            _totalSteps = Math.Max(1, totalSteps);
            Current = _initial;
            _applied = _initial; // the trainer is created with the initial rate
        }

        /// <summary>The rate in effect.</summary>
        internal float Current { get; private set; }

        /// <summary>Advances to the next minibatch; true when its rate differs from the one the trainer has.</summary>
        internal bool NextStep()
        {
            long step = _step++;
            if (_kind == MlpLearningRateSchedule.Cosine)
            {
                // 0.5 (1 + cos(pi t / T)) for t = 0 .. T-1: starts at the initial rate, ends just above 0.
                var rate = (float)(_initial * 0.5 * (1 + Math.Cos(Math.PI * step / _totalSteps)));
                Current = Math.Max(rate, _initial * 1e-6f);
            }
            if (Current == _applied)
                return false;
            _applied = Current;
            return true;
        }

        /// <summary>Ends an epoch with its monitored loss; true when a plateau lowered the rate.</summary>
        internal bool EndEpoch(double monitoredLoss)
        {
            if (_kind != MlpLearningRateSchedule.ReduceOnPlateau || double.IsNaN(monitoredLoss))
                return false;
            if (monitoredLoss < _best * (1 - PlateauTolerance))
            {
                _best = monitoredLoss;
                _epochsWithoutImprovement = 0;
                return false;
            }
            if (++_epochsWithoutImprovement < PlateauPatience)
                return false;
            _epochsWithoutImprovement = 0;
            float lowered = (float)Math.Max(Current * PlateauFactor, _initial * PlateauFloor);
            if (lowered >= Current)
                return false;
            Current = lowered;
            return true;
        }
    }
}
