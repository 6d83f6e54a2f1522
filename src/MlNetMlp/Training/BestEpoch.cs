using System.IO;
using System.Linq;

namespace MlNetMlp.Training
{
    /// <summary>Which epoch validated best, and a copy of its weights: classification compares the validation error
    /// first and the loss second (the error of a small hold-out ties often), regression the loss.</summary>
    internal sealed class BestEpoch
    {
        private readonly bool _byError;
        private double _error = double.PositiveInfinity, _loss = double.PositiveInfinity;
        private (float[] W, float[] B)[][] _weights;

        internal BestEpoch(bool byError) => _byError = byError;

        /// <summary>The best epoch so far (0 before the first).</summary>
        internal int Epoch { get; private set; }

        /// <summary>Records epoch <paramref name="epoch"/>'s validation result; true (and a copy of the weights) when it
        /// is the best so far.</summary>
        internal bool Offer(int epoch, double error, double loss, MlpNetwork[] networks)
        {
            bool better = _byError
                ? error < _error || (error == _error && loss < _loss)
                : loss < _loss;
            if (!better)
                return false;
            _error = error;
            _loss = loss;
            Epoch = epoch;
            _weights = networks.Select(TrainingCheckpoint.LayersOf).ToArray();
            return true;
        }

        /// <summary>Puts the best epoch's weights back into <paramref name="networks"/>.</summary>
        internal void Restore(MlpNetwork[] networks)
        {
            if (_weights == null)
                return;
            for (int m = 0; m < networks.Length; m++)
                for (int l = 0; l < _weights[m].Length; l++)
                    networks[m].SetLayer(l, _weights[m][l].W, _weights[m][l].B);
        }

        /// <summary>Writes the best epoch and its weights (for a checkpoint).</summary>
        internal void Save(BinaryWriter w)
        {
            w.Write(Epoch);
            w.Write(_error);
            w.Write(_loss);
            w.Write(_weights != null);
            if (_weights == null)
                return;
            w.Write(_weights.Length);
            foreach (var member in _weights)
                TrainingCheckpoint.WriteLayers(w, member);
        }

        /// <summary>Restores what <see cref="Save"/> wrote; the weights must fit <paramref name="networks"/>.</summary>
        internal void Load(BinaryReader r, MlpNetwork[] networks)
        {
            Epoch = r.ReadInt32();
            _error = r.ReadDouble();
            _loss = r.ReadDouble();
            _weights = null;
            if (!r.ReadBoolean())
                return;
            if (r.ReadInt32() != networks.Length)
                throw new InvalidDataException("its best-epoch weights are of another ensemble");
            _weights = networks.Select(n => TrainingCheckpoint.ReadLayers(r, n)).ToArray();
        }
    }
}
