"""rag: retrieval-augmented question answering over Shanxi government gazettes.

Data flows one way: corpus files -> Documents -> Passages -> index -> Hits -> Answer.
Each step is a module: ``clean`` (text repair), ``documents`` (split a file into its
documents), ``passages`` (articles and heading sections), ``index`` (the index
folder), ``retrieve`` (dense, lexical, hybrid, clause lookup), ``answer``
(cited answers).
"""

__version__ = "0.1.0"
