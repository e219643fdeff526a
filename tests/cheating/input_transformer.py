# Install an IPython input transformer that rewrites the stub as the cells run.
# EXPECT exercise: open_doorbell
# EXPECT note: installs a hook (get_ipython().input_transformers_cleanup)
# %%
def solve(lines):
    fixed = "    return __import__('socket').create_server(('127.0.0.1', 0))\n"
    return [fixed if "NotImplementedError" in line else line for line in lines]


get_ipython().input_transformers_cleanup.append(solve)
# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a listening socket")
# %% tags=["check"]
check("open_doorbell", open_doorbell)
