using System;
using System.IO;

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

        /// <summary>A schedule of <paramref name="kind"/> peaking at <paramref name="peak"/> over <paramref name="totalSteps"/>
        /// minibatches; <see cref="Current"/> starts at the first step's rate (create the trainer with it).</summary>
        internal LearningRateSchedule(MlpLearningRateSchedule kind, float peak, long totalSteps)
        {
            _kind = kind;
            _initial = peak;
            _totalSteps = Math.Max(1, totalSteps);
            Current = IsCosine ? RateAt(0) : peak;
            _applied = Current;
        }

        private bool IsCosine => _kind == MlpLearningRateSchedule.Cosine || _kind == MlpLearningRateSchedule.CosineLogCycles;

        /// <summary>The rate of minibatch <paramref name="step"/> under a cosine shape.</summary>
        private float RateAt(long step)
        {
            double factor = _kind == MlpLearningRateSchedule.Cosine
                ? 0.5 * (1 + Math.Cos(Math.PI * step / _totalSteps)) // starts at the peak, ends just above 0
                : CosineLogCycles((step + 0.5) / _totalSteps);       // 0 at t = 0 exactly: the step's midpoint
            return (float)Math.Max(_initial * factor, _initial * 1e-6);
        }

        /// <summary>0.5 − 0.5 cos(2π log₂(1 + 15t)) for t in [0, 1].</summary>
        internal static double CosineLogCycles(double t) => 0.5 - 0.5 * Math.Cos(2 * Math.PI * Math.Log2(1 + 15 * t));

        /// <summary>The rate in effect.</summary>
        internal float Current { get; private set; }

        /// <summary>Advances to the next minibatch; true when its rate differs from the one the trainer has.</summary>
        internal bool NextStep()
        {
            long step = _step++;
            if (IsCosine)
                Current = RateAt(step);
            if (Current == _applied)
                return false;
            _applied = Current;
            return true;
        }

        /// <summary>Writes the schedule's progress (for a checkpoint).</summary>
        internal void Save(BinaryWriter w)
        {
            w.Write(_step);
            w.Write(Current);
            w.Write(_applied);
            w.Write(_best);
            w.Write(_epochsWithoutImprovement);
        }

        /// <summary>Restores the progress <see cref="Save"/> wrote (the schedule's kind and length are the run's own).</summary>
        internal void Load(BinaryReader r)
        {
            _step = r.ReadInt64();
            Current = r.ReadSingle();
            _applied = r.ReadSingle();
            _best = r.ReadDouble();
            _epochsWithoutImprovement = r.ReadInt32();
            if (_step < 0 || !(Current > 0) || !(_applied > 0) || _epochsWithoutImprovement < 0)
                throw new InvalidDataException("its learning-rate schedule is corrupt");
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
