"""What an action is and how it is decided: the model and its state machine, the effects contract each kind implements, the flow model, the policy plane, and its explanation in words."""
