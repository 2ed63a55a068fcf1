namespace Compress.Engine.Training;

/// <summary>An <see cref="ITrainingHook"/> that only calls <paramref name="afterEpoch"/> at the end of every epoch (to
/// evaluate the model as it trains); the steps are left alone.</summary>
public sealed class EpochCallbackHook(Action<int> afterEpoch) : ITrainingHook
{
    /// <inheritdoc/>
    public void BeforeForward(long step, long totalSteps)
    {
    }

    /// <inheritdoc/>
    public void BeforeOptimizerStep()
    {
    }

    /// <inheritdoc/>
    public void AfterEpoch(int epoch) => afterEpoch(epoch);

    /// <inheritdoc/>
    public void AfterTraining()
    {
    }
}
