namespace Compress.Engine.Training;

/// <summary>
/// Lets a method change what one training step sees without forking the <see cref="Trainer"/>: called before each
/// forward pass, between backward and the optimizer step, and after the last step.
/// </summary>
public interface ITrainingHook
{
    /// <summary>Before the forward pass of step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    void BeforeForward(long step, long totalSteps);

    /// <summary>After backward, before the optimizer updates the weights.</summary>
    void BeforeOptimizerStep();

    /// <summary>After epoch <paramref name="epoch"/> (1-based), before the next one starts (the model may be evaluated
    /// here; training mode is set again at the start of each epoch).</summary>
    void AfterEpoch(int epoch)
    {
    }

    /// <summary>After the last step.</summary>
    void AfterTraining();
}
